"""A compra por mensagens (ORDENS_SAGA=mensagens): a mesma saga de ordens/saga.py, movida por eventos.

O que é igual à saga HTTP, e vem de lá: a validação no catálogo (passos 1–2, por HTTP, antes de
gravar), os status e a ordem deles, os motivos, as compensações (a reserva primeiro; se livros já
confirmou, a venda aconteceu), e as escritas condicionais do repositório — que decidem a corrida
entre a saga e a recuperação do mesmo jeito. O que muda é o transporte: em vez de chamar e esperar,
ordens grava o próximo comando na outbox, na transação do passo, e segue quando o evento chega.

    POST /ordens       criada + livros.reservar                        → 202 (uma transação)
    estoque_reservado  estoque_reservado + pagamentos.cobrar           (estoque_indisponivel: 409)
    pagamento          pagamento_aprovado + livros.confirmar           (recusado: desfaz, 402)
    reserva_confirmada concluida (201)                                 (expirada: desfaz e estorna, 409)
    falha              desfaz, falhou, <serviço>_indisponivel (503)

Desfazer também é por mensagens, um passo por resposta (`avancar_desfazer`): livros.cancelar, depois
pagamentos.estornar se houve (ou pode ter havido) cobrança, depois o status final. Não há timeout por
passo: uma dependência lenta só faz a ordem esperar na fila; parada há mais de
ORDENS_ABANDONO_SEGUNDOS, a recuperação (recuperacao.py, a mesma da saga HTTP) a desfaz.
"""
import datetime
import logging

from flask import current_app
from opentelemetry import trace

from bookstore import db
from bookstore.mensageria import outbox

from . import repositorio
from .clientes import HTTP_POR_TIPO
from .saga import Pedido, Saga, passo

logger = logging.getLogger(__name__)


class SagaPorMensagens:
    """Tem a interface que rotas.py e recuperacao.py usam da `Saga`: `comprar` e `terminar_de_desfazer`."""

    codigo_da_resposta = 202

    def __init__(self, saga_http: Saga):
        self.http = saga_http  # a validação no catálogo é a mesma (e é HTTP nos dois modos)

    # --- a requisição ---------------------------------------------------------------------------
    def comprar(self, pedido: Pedido) -> tuple[int, int] | None:
        with passo("validar_catalogo", **{"bookstore.livro.ids": [i["livro_id"] for i in pedido.itens]}):
            self.http.validar_no_catalogo(pedido.itens)
        # A ordem, o cartão e o primeiro comando num commit só: ou a compra existe e vai andar,
        # ou nada foi gravado. A requisição nunca fala com o broker (bookstore/mensageria).
        with db.transacao() as cursor:
            criada = repositorio.criar(pedido.cliente, pedido.itens, pedido.idempotency_key, pedido.corpo_hash)
            if criada is None:
                return None
            ordem_id = criada["id"]
            cursor.execute("INSERT INTO ordem_cartoes (ordem_id, numero) VALUES (%s, %s)", (ordem_id, pedido.cartao))
            outbox.enviar("livros.reservar", {"ordem_id": ordem_id, "itens": pedido.itens}, conversa=ordem_id)
        trace.get_current_span().set_attribute("bookstore.ordem.id", ordem_id)
        return ordem_id, self.codigo_da_resposta

    # --- os eventos (ordens/mensagens.py chama um destes por mensagem, na transação da inbox) ------
    def estoque_reservado(self, ordem_id: int, reserva: dict) -> None:
        if not repositorio.registrar_reserva(ordem_id, reserva):
            # A ordem foi desfeita antes (a recuperação): o desfazer cancela as reservas DA ORDEM em
            # livros, esta inclusive, e nenhuma cobrança sai.
            logger.info("ordem %s: reserva %s chegou com a ordem já sendo desfeita", ordem_id, reserva["id"])
            return
        numero = self._tirar_cartao(ordem_id)
        ordem = repositorio.buscar(ordem_id)
        outbox.enviar("pagamentos.cobrar", {"ordem_id": ordem_id, "valor": reserva["total"], "cartao": numero,
                                            "chave": repositorio.chave_de_pagamento(ordem)}, conversa=ordem_id)

    def estoque_indisponivel(self, ordem_id: int) -> None:
        if repositorio.finalizar(ordem_id, "estoque_indisponivel", motivo="estoque_insuficiente", codigo_http=409):
            self._tirar_cartao(ordem_id)

    def pagamento(self, ordem_id: int, pagamento: dict) -> None:
        resolvido = {"pagamento_id": pagamento["id"], "cobranca_incerta_desde": None}
        if pagamento["status"] == "aprovado":
            if repositorio.mudar_status(ordem_id, "pagamento_aprovado", **resolvido):
                ordem = repositorio.buscar(ordem_id)
                outbox.enviar("livros.confirmar", {"ordem_id": ordem_id, "reserva_id": ordem["reserva_id"]},
                              conversa=ordem_id)
            else:  # desfeita no meio: a cobrança incerta que o desfazer estorna é esta
                logger.info("ordem %s: pagamento aprovado chegou com a ordem já sendo desfeita", ordem_id)
        elif pagamento["status"] == "recusado":
            self.decidir_desfazer(ordem_id, "pagamento_recusado", pagamento["motivo"], 402, **resolvido)
        else:  # já estornado: outra passada desta ordem desfez a cobrança (como na saga HTTP)
            self.decidir_desfazer(ordem_id, "falhou", "pagamento_estornado", 409, **resolvido)

    def pagamento_conflitante(self, ordem_id: int) -> None:
        self.decidir_desfazer(ordem_id, "falhou", "pagamento_conflitante", 409, cobranca_incerta_desde=None)

    def reserva_confirmada(self, ordem_id: int) -> None:
        repositorio.finalizar(ordem_id, "concluida", codigo_http=201)

    def reserva_expirada(self, ordem_id: int) -> None:
        self.decidir_desfazer(ordem_id, "falhou", "reserva_expirada", 409)

    def falha(self, ordem_id: int, motivo: str, comando: str) -> None:
        """A dependência falhou (a falha injetada, uma resposta que ordens não esperava): como um 5xx
        na saga HTTP. Um comando que falhou não fez nada (a transação dele foi a da resposta)."""
        campos = {"cobranca_incerta_desde": None} if comando == "pagamentos.cobrar" else {}
        logger.warning("ordem %s: %s respondeu falha (%s); desfazendo a compra", ordem_id, comando, motivo)
        self.decidir_desfazer(ordem_id, "falhou", motivo, HTTP_POR_TIPO[motivo.split("_", 1)[1]], **campos)

    def reserva_cancelada(self, ordem_id: int) -> None:
        if repositorio.registrar(ordem_id, desfeito_em_livros=True):
            self.avancar_desfazer(ordem_id)

    def reserva_ja_confirmada(self, ordem_id: int) -> None:
        # A confirmação chegou a livros antes do desfazer: a venda aconteceu e o pagamento está
        # aprovado, então a ordem se conclui (o mesmo ramo ReservaJaConfirmada da saga HTTP).
        if repositorio.finalizar(ordem_id, "concluida", motivo=None, codigo_http=201):
            logger.warning("ordem %s: reserva já confirmada em livros; ordem concluída", ordem_id)

    def estorno_concluido(self, ordem_id: int, pagamentos: list[dict]) -> None:
        if repositorio.registrar(ordem_id, desfeito_em_pagamentos=True):
            recusado = next((p for p in pagamentos if p["status"] == "recusado"), None)
            self.avancar_desfazer(ordem_id, recusado)

    def cobranca_cancelada(self, ordem_id: int) -> None:
        logger.info("ordem %s: a cobrança chegou depois do estorno e não foi feita", ordem_id)

    # --- desfazer ---------------------------------------------------------------------------------
    def decidir_desfazer(self, ordem_id: int, desfecho: str, motivo: str, codigo_http: int, **campos) -> None:
        # A mesma escrita da saga HTTP (a decisão da recuperação, `interrompida`, cede à de quem sabe).
        repositorio.decidir_desfazer(ordem_id, desfecho, motivo, codigo_http, **campos)
        self.avancar_desfazer(ordem_id)

    def avancar_desfazer(self, ordem_id: int, recusado: dict | None = None) -> None:
        """O próximo passo do desfazer, pela ordem da saga HTTP (`Saga._desfazer`): a reserva primeiro;
        o pagamento se houve, ou pode ter havido, cobrança; por fim o status final."""
        ordem = self._ordem_em_desfazer(ordem_id)
        if ordem is None:
            return
        if not ordem["desfeito_em_livros"]:
            return self._enviar_desfazer(ordem_id, "livros.cancelar", {"ordem_id": ordem_id})
        cobrou_ou_pode_ter_cobrado = ordem["status"] == "pagamento_aprovado" or ordem["cobranca_incerta"]
        if cobrou_ou_pode_ter_cobrado and not ordem["desfeito_em_pagamentos"]:
            return self._enviar_desfazer(ordem_id, "pagamentos.estornar",
                                         {"ordem_id": ordem_id, "chave": repositorio.chave_de_pagamento(ordem)})
        desfecho = {"status": ordem["desfazer_para"], "codigo_http": ordem["codigo_http"]}
        if recusado and ordem["desfazer_para"] == "falhou":
            # A cobrança incerta se revelou uma recusa: é o que a ordem conta (como na saga HTTP).
            desfecho = {"status": "pagamento_recusado", "motivo": recusado["motivo"],
                        "pagamento_id": recusado["id"], "codigo_http": 402}
        if repositorio.finalizar(ordem_id, **desfecho):
            self._tirar_cartao(ordem_id)
            logger.info("ordem %s: compensação concluída → %s", ordem_id, desfecho["status"])

    def terminar_de_desfazer(self, ordem_id: int, cartao: str | None = None) -> int | None:
        """A recuperação (recuperacao.py) passa por aqui: o passo do desfazer que ainda não saiu, ou
        que saiu e não teve resposta em ORDENS_ABANDONO_SEGUNDOS (a mensagem foi para a fila de
        mortas, o serviço ficou fora), vai de novo. Os comandos de desfazer são idempotentes."""
        with db.transacao() as cursor:
            parada = cursor.execute(
                "SELECT desfazer_enviado_em IS NULL"
                "    OR desfazer_enviado_em < clock_timestamp() - make_interval(secs => %s) AS parada"
                "  FROM ordens WHERE id = %s", (current_app.config["ORDENS_ABANDONO_SEGUNDOS"], ordem_id)).fetchone()
            if parada and parada["parada"]:
                self.avancar_desfazer(ordem_id)
        ordem = repositorio.buscar(ordem_id)
        return ordem["codigo_http"] if ordem else None

    def _enviar_desfazer(self, ordem_id: int, destino: str, corpo: dict) -> None:
        repositorio.registrar(ordem_id, desfazer_enviado_em=_agora())
        outbox.enviar(destino, corpo, conversa=ordem_id)

    @staticmethod
    def _ordem_em_desfazer(ordem_id: int) -> dict | None:
        with db.transacao() as cursor:
            extras = cursor.execute("SELECT desfeito_em_livros, desfeito_em_pagamentos FROM ordens WHERE id = %s",
                                    (ordem_id,)).fetchone()
        ordem = repositorio.buscar(ordem_id)
        if ordem is None or ordem["status"] not in repositorio.EM_ANDAMENTO or ordem["desfazer_para"] is None:
            return None
        return {**ordem, **extras}

    @staticmethod
    def _tirar_cartao(ordem_id: int) -> str | None:
        with db.transacao() as cursor:
            linha = cursor.execute("DELETE FROM ordem_cartoes WHERE ordem_id = %s RETURNING numero",
                                   (ordem_id,)).fetchone()
        return linha["numero"] if linha else None


def _agora() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)
