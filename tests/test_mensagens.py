"""Issue 21: a compra por mensagens, contra um RabbitMQ de verdade.

Um broker (o rabbitmq-server da máquina numa pasta temporária) e um laboratório para o módulo
inteiro: três gunicorns com ORDENS_SAGA=mensagens, dois mensageiros por serviço (dois consumidores
de cada fila) e um receptor OTLP. Cada teste compra livros próprios, então não dependem uns dos outros;
os que param peças (o relay, um consumidor) as devolvem ao fim.
"""
import signal
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pika
import psycopg
import pytest
import requests
from opentelemetry.instrumentation.utils import suppress_instrumentation

from bookstore.mensageria import filas
from ferramentas.invariantes import verificar_invariantes
from modo_local.mensageiros import Mensageiros
from modo_local.processos import porta_livre
from modo_local.rabbitmq import RabbitMQLocal
from modo_local.servicos import Laboratorio
from telemetria_local import otlp
from telemetria_local.receptor import ReceptorOTLP
from tests.apoio import CARTAO_RECUSADO, criar_livro, esperar, estoque, json_de, portas_livres

pytestmark = pytest.mark.e2e

CONSUMIDORES_POR_FILA = 2
FINAIS = ("concluida", "pagamento_recusado", "estoque_indisponivel", "falhou")


@pytest.fixture(scope="module")
def broker():
    with RabbitMQLocal(porta_livre()) as rabbitmq:
        yield rabbitmq


@pytest.fixture(scope="module")
def receptor():
    receptor = ReceptorOTLP().iniciar()
    yield receptor
    receptor.parar()


@pytest.fixture(scope="module")
def lab(postgres, broker, receptor, tmp_path_factory):
    laboratorio = Laboratorio(
        postgres, portas=portas_livres(), prefixo_bancos="msg_", pasta_logs=tmp_path_factory.mktemp("logs-msg"),
        ambiente={"WEB_CONCURRENCY": "2", "CATALOGO_INICIAL": "false", "ADMIN_HABILITADO": "true",
                  "ORDENS_SAGA": "mensagens", "RABBITMQ_URL": broker.url(), "OTEL_BSP_SCHEDULE_DELAY": "200",
                  "OTEL_METRIC_EXPORT_INTERVAL": "500", "ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS": "1",
                  **receptor.ambiente("http/protobuf")})
    with laboratorio.iniciar(recriar_bancos=True):
        with Mensageiros(laboratorio, CONSUMIDORES_POR_FILA, saida=None) as mensageiros:
            laboratorio.mensageiros = mensageiros
            esperar(lambda: all(consumidores(broker, fila) == CONSUMIDORES_POR_FILA for fila in filas.FILAS), 60,
                    descricao="dois consumidores em cada fila")
            yield laboratorio


# --- ajudantes ------------------------------------------------------------------------------------
def consumidores(broker, fila: str) -> int:
    try:
        return estado_da_fila(broker, fila).consumer_count
    except pika.exceptions.ChannelClosedByBroker:  # ninguém declarou a fila ainda
        return 0


def estado_da_fila(broker, fila: str):
    with pika.BlockingConnection(pika.URLParameters(broker.url())) as conexao:
        return conexao.channel().queue_declare(fila, passive=True).method


def comprar(lab, livro: int, quantidade: int = 1, cartao: str | None = None, cabecalhos: dict | None = None):
    corpo = {"itens": [{"livro_id": livro, "quantidade": quantidade}], **({"cartao": cartao} if cartao else {})}
    with suppress_instrumentation():  # como um curl: sem traceparent
        resposta = requests.post(lab.url("ordens") + "/ordens", json=corpo, headers=cabecalhos or {}, timeout=15)
    assert resposta.status_code == 202, resposta.text
    return json_de(resposta)


def ordem(lab, ordem_id: int) -> dict:
    return json_de(requests.get(f"{lab.url('ordens')}/ordens/{ordem_id}", timeout=10))


def esperar_final(lab, ordem_id: int, limite: float = 30) -> dict:
    return esperar(lambda: (o := ordem(lab, ordem_id))["status"] in FINAIS and o, limite, intervalo=0.05,
                   descricao=f"a ordem {ordem_id} chegar a um status final")


def linhas(lab, servico: str, sql: str, *parametros) -> list[tuple]:
    with psycopg.connect(lab.bancos[servico]) as conexao:
        return conexao.execute(sql, parametros).fetchall()


# --- a compra ---------------------------------------------------------------------------------------
def test_compra_responde_202_com_location_e_conclui_pela_fila(lab):
    livro = criar_livro(lab, preco="12.50", estoque=3)
    resposta = requests.post(lab.url("ordens") + "/ordens", timeout=10,
                             json={"itens": [{"livro_id": livro, "quantidade": 2}], "cliente": "Ana"})
    assert resposta.status_code == 202, resposta.text
    criada = json_de(resposta)
    assert criada["status"] == "criada" and resposta.headers["Location"].endswith(f"/ordens/{criada['id']}")
    final = esperar_final(lab, criada["id"])
    assert final["status"] == "concluida" and final["motivo"] is None and final["total"] == 25
    assert [passo["status"] for passo in final["historico"]] == [
        "criada", "estoque_reservado", "pagamento_aprovado", "concluida"]
    assert estoque(lab, livro) == 1
    # O cartão existiu só em trânsito: nem a tabela da ordem nem a outbox o guardam depois.
    assert linhas(lab, "ordens", "SELECT count(*) FROM ordem_cartoes WHERE ordem_id = %s", criada["id"]) == [(0,)]
    assert linhas(lab, "ordens", "SELECT count(*) FROM mensagens_a_enviar WHERE corpo ? 'cartao'") == [(0,)]


def test_repetir_com_a_mesma_idempotency_key_devolve_o_primeiro_202(lab):
    livro = criar_livro(lab, estoque=5)
    cabecalhos = {"Idempotency-Key": str(uuid.uuid4())}
    primeira = comprar(lab, livro, cabecalhos=cabecalhos)
    esperar_final(lab, primeira["id"])
    segunda = comprar(lab, livro, cabecalhos=cabecalhos)
    assert segunda["id"] == primeira["id"] and segunda["status"] == "concluida"
    assert estoque(lab, livro) == 4


@pytest.mark.parametrize("cenario", ["cartao_recusado", "acima_do_limite", "sem_estoque", "pagamentos_fora"])
def test_desfechos_com_os_mesmos_status_e_motivos_da_saga_http(lab, cenario):
    livro = criar_livro(lab, preco="2600.00" if cenario == "acima_do_limite" else "10.00", estoque=2)
    quantidade, cartao, falha, esperado = {
        "cartao_recusado": (1, CARTAO_RECUSADO, None, ("pagamento_recusado", "cartao_recusado")),
        "acima_do_limite": (2, None, None, ("pagamento_recusado", "limite_excedido")),
        "sem_estoque": (3, None, None, ("estoque_indisponivel", "estoque_insuficiente")),
        # A falha desta compra, no baggage: atravessa a fila até o consumidor de pagamentos.
        "pagamentos_fora": (1, None, "pagamentos:erro", ("falhou", "pagamentos_indisponivel")),
    }[cenario]
    cabecalhos = {"baggage": f"bookstore.falha={falha}"} if falha else {}
    criada = comprar(lab, livro, quantidade, cartao, cabecalhos)
    final = esperar_final(lab, criada["id"])
    assert (final["status"], final["motivo"]) == esperado
    assert estoque(lab, livro) == 2  # a reserva foi desfeita (ou nunca existiu)
    pagamentos = linhas(lab, "pagamentos", "SELECT status FROM pagamentos WHERE ordem_id = %s", criada["id"])
    assert "aprovado" not in {status for (status,) in pagamentos}


def test_catalogo_fora_e_503_na_hora_e_nada_e_gravado(lab):
    """Os passos 1–2 (validar no catálogo) são os mesmos da saga HTTP, síncronos, antes de gravar."""
    livro = criar_livro(lab, estoque=1)
    antes = linhas(lab, "ordens", "SELECT count(*) FROM ordens")
    with suppress_instrumentation():
        resposta = requests.post(lab.url("ordens") + "/ordens", json={"itens": [{"livro_id": livro, "quantidade": 1}]},
                                 headers={"baggage": "bookstore.falha=livros:erro"}, timeout=10)
    assert resposta.status_code == 503 and json_de(resposta)["motivo"] == "livros_indisponivel"
    assert linhas(lab, "ordens", "SELECT count(*) FROM ordens") == antes


def test_reserva_que_expira_durante_o_pagamento_e_estornada(lab):
    """O 410 da saga HTTP: a reserva venceu enquanto pagamentos demorava; o dinheiro volta."""
    livro = criar_livro(lab, estoque=1)
    requests.put(lab.url("livros") + "/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 0}, timeout=5)
    with psycopg.connect(lab.bancos["livros"], autocommit=True) as conexao:
        # Uma reserva de 1 s só para este livro: a latência em pagamentos (2 s) a vence.
        conexao.execute("CREATE OR REPLACE FUNCTION encurtar() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        " NEW.expira_em := clock_timestamp() + interval '1 second'; RETURN NEW; END $$")
        conexao.execute("CREATE OR REPLACE TRIGGER encurtar BEFORE INSERT ON reservas FOR EACH ROW"
                        f" WHEN (NEW.ordem_id IS NOT NULL) EXECUTE FUNCTION encurtar()")
    try:
        criada = comprar(lab, livro, cabecalhos={"baggage": "bookstore.falha=pagamentos:latencia_ms=2000"})
        final = esperar_final(lab, criada["id"])
    finally:
        with psycopg.connect(lab.bancos["livros"], autocommit=True) as conexao:
            conexao.execute("DROP TRIGGER encurtar ON reservas")
    assert (final["status"], final["motivo"]) == ("falhou", "reserva_expirada")
    assert linhas(lab, "pagamentos", "SELECT status FROM pagamentos WHERE ordem_id = %s", criada["id"]) == [
        ("estornado",)]
    assert estoque(lab, livro) == 1
