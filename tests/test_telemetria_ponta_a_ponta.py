"""Telemetria ponta a ponta: três processos gunicorn (2 workers cada) exportando
OTLP de verdade para um receptor que o teste sobe numa porta livre."""
import statistics
import time

import pytest
import requests
from opentelemetry.instrumentation.utils import suppress_instrumentation

from bookstore import topologia
from modo_local.servicos import Laboratorio
from telemetria_local import otlp
from telemetria_local.receptor import ReceptorOTLP
from tests.apoio import criar_livro, esperar, portas_livres

pytestmark = pytest.mark.e2e

CARTAO = "5555555555554444"  # aprovado; não pode aparecer em nenhum payload exportado


@pytest.fixture(scope="module", params=["http/protobuf", "grpc"])
def montagem(request, postgres, tmp_path_factory):
    protocolo = request.param
    receptor = ReceptorOTLP().iniciar()
    prefixo = "otel_" + protocolo.split("/")[0] + "_"
    lab = Laboratorio(
        postgres, portas=portas_livres(), prefixo_bancos=prefixo,
        pasta_logs=tmp_path_factory.mktemp("logs-otel"),
        ambiente={"WEB_CONCURRENCY": "2", "CATALOGO_INICIAL": "false", "ADMIN_HABILITADO": "true",
                  "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BLRP_SCHEDULE_DELAY": "200",
                  "OTEL_METRIC_EXPORT_INTERVAL": "500", "OTEL_EXPORTER_OTLP_TIMEOUT": "2",
                  **receptor.ambiente(protocolo)},
    )
    with lab.iniciar(recriar_bancos=True):
        yield lab, receptor
    receptor.parar()


def comprar(lab, livro):
    # Como um curl: sem traceparent. (Se os testes em memória rodaram antes neste
    # processo, o requests daqui está instrumentado e viraria o pai do trace.)
    with suppress_instrumentation():
        return requests.post(lab.url("ordens") + "/ordens", timeout=10,
                             json={"itens": [{"livro_id": livro, "quantidade": 1}], "cartao": CARTAO})


def test_uma_compra_e_um_trace_que_atravessa_os_tres_servicos(montagem):
    lab, receptor = montagem
    livro = criar_livro(lab, estoque=5)
    resposta = comprar(lab, livro)
    assert resposta.status_code == 201
    ordem_id = resposta.json()["id"]

    def trace_da_compra():
        raizes = [s for s in receptor.spans() if s["servico"] == "ordens" and s["kind"] == otlp.SERVIDOR
                  and s["nome"] == "POST /ordens" and s["atributos"].get("bookstore.ordem.id") == ordem_id]
        if not raizes:
            return None
        spans = [s for s in receptor.spans() if s["trace_id"] == raizes[0]["trace_id"]]
        servicos = {s["servico"] for s in spans}
        ids = {s["span_id"] for s in spans}
        # Lotes de workers diferentes chegam em momentos diferentes: espere o trace fechar.
        # Os três serviços não bastam — livros atende duas requisições, que podem cair em
        # workers diferentes —, então espere os 5 spans de servidor da compra (ordens, o GET
        # do livro, a reserva, o pagamento e a confirmação) e os pais de todo mundo.
        servidores = [s for s in spans if s["kind"] == otlp.SERVIDOR]
        if servicos >= set(topologia.SERVICOS) and len(servidores) == 5 and all(
                s["parent_id"] in ids for s in spans if s["span_id"] != raizes[0]["span_id"]):
            return raizes[0], spans
        return None

    raiz, spans = esperar(trace_da_compra, descricao="o trace da compra chegar inteiro (os três serviços, "
                                                     "os 5 spans de servidor e o pai de cada span)")
    assert raiz["parent_id"] == ""  # o span de servidor de ordens é a raiz
    assert [s for s in spans if s["parent_id"] == ""] == [raiz]
    sql = [s for s in spans if s["atributos"].get("db.system") == "postgresql"]
    assert {s["servico"] for s in sql} == set(topologia.SERVICOS)
    assert {s["nome"] for s in spans} >= {"saga.reservar_estoque", "estoque.reservar", "pagamentos.decidir"}
    # cada worker é uma instância: o recurso traz o id dela e o namespace do laboratório
    assert all(s["recurso"]["service.namespace"] == "bookstore" and s["recurso"]["service.instance.id"]
               for s in spans)

    trace_id = raiz["trace_id"]
    logs = esperar(lambda: [r for r in receptor.logs() if r["trace_id"] == trace_id and "concluida" in r["corpo"]])
    assert logs and logs[0]["recurso"]["service.name"] == "ordens"
    assert f"trace_id={trace_id}" in lab.log("ordens")  # a mesma linha no stdout, com o trace id

    metricas = esperar(lambda: {m["nome"] for m in receptor.metricas()} >= {
        "bookstore.ordens", "bookstore.reservas", "bookstore.pagamentos", "bookstore.livro.estoque",
        "bookstore.ordem.valor", "bookstore.pagamento.valor"} and receptor.metricas())
    assert metricas
    nomes_http = {m["nome"] for m in metricas}
    assert nomes_http & {"http.server.duration", "http.server.request.duration"}
    assert nomes_http & {"http.client.duration", "http.client.request.duration"}
    assert {m["recurso"]["service.name"] for m in metricas} == set(topologia.SERVICOS)

    assert CARTAO.encode() not in bytes(receptor.bytes_crus)


def test_workers_diferentes_tem_service_instance_id_diferentes(montagem):
    lab, receptor = montagem
    for _ in range(20):
        requests.get(lab.url("livros") + "/livros", timeout=5)
    instancias = esperar(lambda: len({s["recurso"]["service.instance.id"] for s in receptor.spans()
                                      if s["servico"] == "livros"}) >= 2,
                         descricao="spans de livros de dois workers")
    assert instancias


def test_collector_fora_do_ar_nao_atrasa_nem_quebra_compras(montagem):
    lab, receptor = montagem
    if lab.ambiente["OTEL_EXPORTER_OTLP_PROTOCOL"] == "grpc":
        pytest.skip("o mesmo receptor parado uma vez basta; feito com http/protobuf")
    livro = criar_livro(lab, estoque=100)

    def medir(vezes=15):
        duracoes = []
        for _ in range(vezes):
            inicio = time.perf_counter()
            assert comprar(lab, livro).status_code == 201
            duracoes.append(time.perf_counter() - inicio)
        return statistics.median(duracoes)

    com_receptor = medir()
    receptor.parar()
    sem_receptor = medir()
    # Exportar é trabalho de uma thread em segundo plano: sem o receptor, as
    # compras seguem. Uma exportação síncrona custaria segundos (timeout) por compra.
    assert sem_receptor < com_receptor * 3 + 0.05, (com_receptor, sem_receptor)
