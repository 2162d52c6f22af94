"""Recuperação: termina as compensações que ficaram pela metade.

Roda no arranque de cada worker e depois a cada ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS,
numa thread do worker. Um advisory lock do PostgreSQL garante que só uma passada
roda por vez, em qualquer worker ou réplica. Ela pega:
- ordens com compensação pendente (`desfazer_para` gravado, desfazer falhou);
- ordens paradas num passo intermediário há mais de ORDENS_ABANDONO_SEGUNDOS
  (o worker morreu no meio da saga). O valor padrão (60 s) fica acima da saga
  mais lenta possível: 6 chamadas × (2 s de conexão + 5 s de leitura).
"""
import logging
import threading

from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation

from bookstore import db

from . import repositorio
from .telemetria import tracer

logger = logging.getLogger(__name__)


def executar_passada(app) -> int:
    """Uma passada. Devolve quantas ordens foram levadas a um status final."""
    saga = app.extensions["ordens.saga"]
    with app.app_context(), db.pool_da_app(app).connection() as conexao:
        # A checagem periódica não gera spans: só quando há o que desfazer.
        with suppress_instrumentation():
            if not repositorio.travar_a_recuperacao(conexao):
                return 0  # outra passada está rodando
        try:
            with suppress_instrumentation():
                pendentes = repositorio.pendentes(app.config["ORDENS_ABANDONO_SEGUNDOS"])
            resolvidas = 0
            for ordem_id in pendentes:
                with tracer.start_as_current_span("recuperacao.desfazer_ordem",
                                                  attributes={"bookstore.ordem.id": ordem_id}):
                    if recuperar(saga, ordem_id, app.config["ORDENS_ABANDONO_SEGUNDOS"]):
                        resolvidas += 1
            return resolvidas
        finally:
            with suppress_instrumentation():
                repositorio.destravar_a_recuperacao(conexao)


def recuperar(saga, ordem_id: int, abandono_segundos: float) -> bool:
    """Termina o desfazer de uma ordem da lista de pendentes. Entre a lista e agora
    a saga pode ter andado ou terminado: a decisão é tomada de novo, sob o lock da
    linha, pelas escritas condicionais do repositório. Devolve se a ordem terminou."""
    if repositorio.decidir_desfazer_abandonada(ordem_id, abandono_segundos):
        logger.warning("ordem %s abandonada no meio da saga; desfazendo", ordem_id)
    codigo = saga.terminar_de_desfazer(ordem_id)
    ordem = repositorio.buscar(ordem_id)
    trace.get_current_span().set_attributes({"bookstore.ordem.status": ordem["status"],
                                             "bookstore.ordem.codigo_http": codigo or 0})
    return ordem["status"] not in repositorio.EM_ANDAMENTO


def iniciar_em_segundo_plano(app) -> threading.Thread:
    intervalo = app.config["ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS"]
    parar = threading.Event()

    def laco():
        while True:
            try:
                executar_passada(app)
            except Exception:  # a thread não pode morrer: tenta de novo no próximo ciclo
                logger.exception("falha na passada de recuperação")
            if parar.wait(intervalo):
                return

    thread = threading.Thread(target=laco, name="recuperacao-ordens", daemon=True)
    thread.parar = parar
    thread.start()
    return thread
