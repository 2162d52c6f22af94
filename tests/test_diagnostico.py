"""`make diagnostico` de verdade contra o modo local, e a leitura das
respostas do Jaeger e do Prometheus em amostras no formato exato de cada um."""
import re
import sys

import pytest

from telemetria_local import fontes
from supervisao.portas import porta_livre
from bookstore.config import RAIZ
from telemetria_local import otlp
from tests.apoio import esperar, exigir_rabbitmq, explicar, projeto_com_git, rodar
from tests.lancador import ModoLocal, rodar_diagnostico

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"

# Jaeger v2, GET /api/v3/traces/{id}: TracesData em OTLP/JSON, ids em hexadecimal, enums
# como números (jaegertracing/jaeger: cmd/query/app/apiv3/http_gateway.go, que serializa
# com jsonpb, e cmd/query/app/apiv3/snapshots/GetTrace.json).
RESPOSTA_DO_JAEGER = {"resourceSpans": [
    {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ordens"}}]},
     "scopeSpans": [{"scope": {}, "spans": [
         {"traceId": TRACE_ID, "spanId": "00f067aa0ba902b7", "parentSpanId": "", "name": "POST /ordens",
          "kind": 2, "startTimeUnixNano": "1764000000000000000", "endTimeUnixNano": "1764000000035000000",
          "status": {"code": 2}}]}]},
    {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "livros"}}]},
     "scopeSpans": [{"scope": {}, "spans": [
         {"traceId": TRACE_ID, "spanId": "00f067aa0ba902b8", "parentSpanId": "00f067aa0ba902b7",
          "name": "POST /reservas", "kind": 2, "startTimeUnixNano": "1764000000001000000",
          "endTimeUnixNano": "1764000000004000000", "status": {}}]}]},
]}
# Prometheus, GET /api/v1/query (prometheus/prometheus: docs/querying/api.md, "Instant
# queries" e "Expression query result formats": o valor é [<unix em segundos>, "<texto>"]).
RESPOSTA_DO_PROMETHEUS = {"status": "success", "data": {"resultType": "vector", "result": [
    {"metric": {}, "value": [1764000000.781, "42"]}]}}
PROMETHEUS_VAZIO = {"status": "success", "data": {"resultType": "vector", "result": []}}
PROMETHEUS_ERRO = {"status": "error", "errorType": "bad_data", "error": "parse error"}


def test_le_a_resposta_do_jaeger_com_ids_em_hex():
    spans = fontes.spans_da_resposta_do_jaeger(RESPOSTA_DO_JAEGER)
    assert [(s["servico"], s["nome"], s["trace_id"]) for s in spans] == [
        ("ordens", "POST /ordens", TRACE_ID), ("livros", "POST /reservas", TRACE_ID)]
    assert spans[1]["parent_id"] == spans[0]["span_id"] == "00f067aa0ba902b7"
    # Versões em que o grpc-gateway embrulha a resposta em {"result": …}.
    assert fontes.spans_da_resposta_do_jaeger({"result": RESPOSTA_DO_JAEGER}) == spans


def test_le_a_consulta_do_prometheus():
    assert fontes.valor_da_consulta_do_prometheus(RESPOSTA_DO_PROMETHEUS) == 42
    assert fontes.valor_da_consulta_do_prometheus(PROMETHEUS_VAZIO) is None
    assert fontes.valor_da_consulta_do_prometheus(PROMETHEUS_ERRO) is None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    # Métricas a cada 4 s (o padrão é 10 s): a primeira exportação sai 4 s depois de "Laboratório pronto".
    with ModoLocal(tmp_path_factory.mktemp("telemetria"), OTEL_METRIC_EXPORT_INTERVAL="4000") as laboratorio:
        yield laboratorio


@pytest.mark.e2e
def test_diagnostico_logo_depois_de_laboratorio_pronto_e_todo_verde(lab):
    """Rodado logo depois de "Laboratório pronto" (é o primeiro teste com este laboratório),
    nenhum worker exportou métricas ainda. O diagnóstico espera a próxima exportação, numa linha, e só
    então julga — antes, dizia "✘ métricas bookstore.* … nenhuma"."""
    resultado = rodar_diagnostico(lab)
    assert resultado.returncode == 0, explicar(resultado)
    saida = resultado.stdout
    assert "modo local" in saida and "Tudo certo." in saida and "✘" not in saida
    assert saida.count("esperando a telemetria chegar…") == 1, saida
    # A compra do diagnóstico (continuada do traceparent dele) ganha a sua linha no terminal.
    trace_id = re.search(r"; trace ([0-9a-f]{32})", saida).group(1)
    linha = lab.esperar_linha(f"trace {trace_id[:8]}… POST /ordens 402", 15)
    assert linha and linha.endswith("— pagamento_recusado: cartao_recusado"), lab.saida()[-3000:]
    assert f"✔ porta {lab.portas['livros']} (livros): pid " in saida and "gunicorn" in saida
    assert "✔ compra de teste (cartão recusado, estoque devolvido): 402 pagamento_recusado" in saida
    assert "serviços livros, ordens, pagamentos" in saida
    assert "✔ métricas bookstore.* no receptor local: bookstore." in saida


@pytest.mark.e2e
def test_diagnostico_diz_o_que_falta_e_falha(lab):
    parado = porta_livre()
    resultado = rodar_diagnostico(lab, PORTA_PAGAMENTOS=str(parado))
    assert resultado.returncode == 1, explicar(resultado)
    assert f"✘ porta {parado} (pagamentos): ninguém escuta" in resultado.stdout
    assert "✘ pagamentos /ready: ConnectionError" in resultado.stdout
    assert "    → suba o laboratório" in resultado.stdout


# A conta de jaeger/config.yaml, com spans por compra e bytes por span medidos agora, num
# trace real: o mesmo SDK e os mesmos atributos que o compose manda ao Jaeger.
FATOR_EM_MEMORIA_NO_GO = 4  # estimativa: structs, strings e mapas do pdata ~4x o protobuf
JAEGER_EM_REPOUSO_MIB = 40  # estimativa do processo sem traces


@pytest.mark.e2e
def test_max_traces_do_jaeger_cabe_no_gomemlimit_com_um_trace_medido(lab):
    import yaml
    from telemetria_local import armazem
    assert lab.comprar(livro_id=2).status_code == 201

    def trace_inteiro():
        pedidos = armazem.ler("traces", lab.pasta_telemetria)
        todos = [s for p in pedidos for rs in p.resource_spans for ss in rs.scope_spans for s in ss.spans]
        compras = [s for s in todos if s.name == "POST /ordens" and not s.parent_span_id]
        spans = [s for s in todos if compras and s.trace_id == compras[-1].trace_id]
        return spans if sum(1 for s in spans if s.kind == otlp.SERVIDOR) == 5 else None  # os 5 de servidor

    spans = esperar(trace_inteiro, intervalo=0.3, descricao="o trace da compra chegar inteiro")
    assert len(spans) >= 20
    bytes_por_span = sum(s.ByteSize() for s in spans) / len(spans)
    config = yaml.safe_load((RAIZ / "jaeger" / "config.yaml").read_text())
    max_traces = config["extensions"]["jaeger_storage"]["backends"]["memoria"]["memory"]["max_traces"]
    compose = yaml.safe_load((RAIZ / "docker-compose.yml").read_text())
    gomemlimit = int(compose["services"]["jaeger"]["environment"]["GOMEMLIMIT"].removesuffix("MiB"))
    conta = max_traces * len(spans) * bytes_por_span * FATOR_EM_MEMORIA_NO_GO / 2**20 + JAEGER_EM_REPOUSO_MIB
    print(f"\n{len(spans)} spans por compra, {bytes_por_span:.0f} bytes/span: {max_traces} traces = {conta:.0f} MiB")
    assert conta <= gomemlimit


# Prometheus, GET /api/v1/label/__name__/values (prometheus/prometheus: docs/querying/api.md,
# "Querying label values"): {"status": "success", "data": [<nomes>]}. O autoteste dos
# exercícios de métricas lê os nomes assim no modo Docker.
NOMES_DO_PROMETHEUS = {"status": "success", "data": ["bookstore_livros_vendidos_total", "bookstore_ordens_total",
                                                     "traces_span_metrics_calls_total", "up"]}


def test_autoteste_le_os_nomes_de_metricas_do_prometheus():
    from autoteste.consultas import tem_metrica
    nomes = fontes.nomes_da_resposta_do_prometheus(NOMES_DO_PROMETHEUS)
    assert tem_metrica(nomes, "bookstore.livros.vendidos") and tem_metrica(nomes, "bookstore.ordens")
    assert not tem_metrica(nomes, "bookstore.ordem.exemplares")
    assert fontes.nomes_da_resposta_do_prometheus({"status": "error", "error": "x"}) == set()


def test_autoteste_soma_o_contador_com_o_nome_que_o_prometheus_da():
    # O exercício 12 compara traces com compras: as compras vêm daqui no modo Docker.
    assert fontes.consulta_do_total("bookstore.ordens", {"bookstore.ordem.status": "concluida"}) == (
        'sum(bookstore_ordens_total{bookstore_ordem_status="concluida"})')
    assert "bookstore_ordens_total" in fontes.nomes_da_resposta_do_prometheus(NOMES_DO_PROMETHEUS)


@pytest.mark.e2e
def test_diagnostico_pela_compra_por_mensagens_espera_a_saga_terminar(tmp_path):
    """Com ORDENS_SAGA=mensagens a compra de teste volta 202 e anda nas filas: o diagnóstico segue o
    Location até o status final (pagamento_recusado) antes de julgar — antes, dava ✘ "202 criada"."""
    exigir_rabbitmq()
    with ModoLocal(tmp_path, ORDENS_SAGA="mensagens", OTEL_METRIC_EXPORT_INTERVAL="2000") as com_filas:
        resultado = rodar_diagnostico(com_filas)
    assert resultado.returncode == 0 and "✘" not in resultado.stdout, explicar(resultado)
    assert "compra de teste (cartão recusado, estoque devolvido): 202 pagamento_recusado" in resultado.stdout


# VictoriaLogs, GET /select/logsql/query: um objeto JSON por linha, os campos do registro achatados (o
# corpo em _msg; trace_id/span_id em hex; os atributos do recurso com o nome OTel) — a forma medida numa
# ingestão OTLP real do VictoriaLogs 1.52.2 (tests/test_pilha_real.py a confere de ponta a ponta).
LINHA_DO_VICTORIALOGS = {"_msg": "ordem 7 → concluida", "_time": "2026-12-07T01:57:49.385477222Z",
                         "_stream": '{service.name="ordens"}', "service.name": "ordens", "severity_text": "INFO",
                         "severity_number": "9", "trace_id": TRACE_ID, "span_id": "00f067aa0ba902b7",
                         "code.function": "avancar"}


def test_le_uma_linha_do_victorialogs_no_formato_do_armazem_local():
    registro = fontes.registro_do_victorialogs(LINHA_DO_VICTORIALOGS)
    assert registro == {"recurso": {"service.name": "ordens"}, "corpo": "ordem 7 → concluida", "trace_id": TRACE_ID,
                        "span_id": "00f067aa0ba902b7", "severidade": "INFO", "atributos": {"code.function": "avancar"}}


def test_diagnostico_nomeia_a_pagina_do_navegador_que_nao_responde(monkeypatch, capsys):
    """Sem nada escutando nas portas do Jaeger, do Prometheus, do visualizador, do VictoriaLogs e dos painéis,
    cada página aparece com ✘, pelo nome, e com o que fazer."""
    from ferramentas import diagnostico
    for nome in ("jaeger", "prometheus", "visualizador", "victorialogs", "paineis"):
        monkeypatch.setenv(f"PORTA_{nome.upper()}", str(porta_livre()))
    relatorio = diagnostico.Relatorio()
    diagnostico.interfaces_web(relatorio)
    saida = capsys.readouterr().out
    assert relatorio.falhas == 4, saida
    for pagina in ("Prometheus (interface)", "Logs (VictoriaLogs)", "Painéis (VictoriaMetrics)", "Traces (visualizador)"):
        assert re.search(rf"^✘ {re.escape(pagina)}: http://127\.0\.0\.1:\d+/\S* não respondeu$", saida, re.M), saida
    assert saida.count("    → ") == 4


@pytest.mark.e2e
def test_a_falha_que_ficou_ligada_e_nomeada_pelo_diagnostico_e_desligada_pelo_make_restaura(lab, tmp_path):
    """A latência do 21 esquecida em pagamentos: o diagnóstico a nomeia com o conserto, e `make restaura`
    (numa cópia com git, para não mexer nos arquivos de quem roda a suíte) a desliga."""
    import requests
    requests.put(lab.url("pagamentos") + "/admin/falhas", json={"latencia_ms": 400, "taxa_erro": 0}, timeout=5)
    diagnostico = rodar_diagnostico(lab)
    assert "⚠ falha ligada em pagamentos (latencia_ms=400, taxa_erro=0)" in diagnostico.stdout, explicar(diagnostico)
    assert "`make restaura`" in diagnostico.stdout
    copia = projeto_com_git(tmp_path / "lab")
    restaura = rodar([sys.executable, "-m", "ferramentas.restaura"], cwd=copia, env=lab.ambiente)
    assert restaura.returncode == 0 and "✔ falhas de pagamentos desligadas" in restaura.stdout, explicar(restaura)
    assert requests.get(lab.url("pagamentos") + "/admin/falhas", timeout=5).json() == {"latencia_ms": 0, "taxa_erro": 0}
