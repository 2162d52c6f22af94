"""A pilha real: Collector, Jaeger v2 e Prometheus construídos do código-fonte por
pilha/construir.sh (em .ferramentas/bin/), carregando as configs do laboratório de verdade.

Sem o binário, o teste é pulado com uma linha dizendo o que falta — exceto com CI=true,
onde binário faltando é FALHA (o CI tem de construir a pilha antes).

As configs do laboratório fixam endereços de contêiner (0.0.0.0:4317, jaeger:4317,
otel-collector:8889...): aqui elas são usadas como estão, e só os endereços mudam, na linha
de comando (--set do Collector e do Jaeger; uma cópia do prometheus.yml com outro alvo),
para portas livres em 127.0.0.1.
"""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from modo_local.postgres import porta_livre

RAIZ = Path(__file__).resolve().parent.parent
BIN = RAIZ / ".ferramentas" / "bin"
CONFIG_COLLECTOR = RAIZ / "otel-collector" / "config.yaml"
CONFIG_JAEGER = RAIZ / "jaeger" / "config.yaml"
CONFIG_PROMETHEUS = RAIZ / "prometheus" / "prometheus.yml"
CONFIGS_DO_COLLECTOR = [
    CONFIG_COLLECTOR,
    RAIZ / "exercises" / "13-collector-processadores" / "solucao.yaml",
    RAIZ / "exercises" / "14-tail-sampling" / "solucao.yaml",
]


def binario(nome: str) -> Path:
    caminho = BIN / nome
    if not caminho.exists():
        falta = f".ferramentas/bin/{nome} ausente: rode pilha/construir.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{falta} (CI=true: binário faltando é falha, não pulo)")
        pytest.skip(falta)
    return caminho


def rodar(*comando, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in comando], capture_output=True, text=True, timeout=timeout)


def versoes() -> dict:
    linhas = (RAIZ / "pilha" / "versoes.env").read_text(encoding="utf-8").splitlines()
    return dict(linha.split("=", 1) for linha in linhas if linha and not linha.startswith("#"))


def requisitos(go_mod: Path) -> dict:
    """{módulo: versão} das linhas de require de um go.mod."""
    pares = {}
    for linha in go_mod.read_text(encoding="utf-8").splitlines():
        partes = linha.strip().removeprefix("require ").split()
        if len(partes) >= 2 and partes[1].startswith("v") and "." in partes[0]:
            pares[partes[0]] = partes[1]
    return pares


# --- versões: um só lugar ----------------------------------------------------------------

def test_versoes_env_e_os_go_mod_da_pilha_concordam():
    v = versoes()
    otelcol = requisitos(RAIZ / "pilha" / "otelcol" / "go.mod")
    do_collector = {m: ver for m, ver in otelcol.items()
                    if m.startswith(("go.opentelemetry.io/collector",
                                     "github.com/open-telemetry/opentelemetry-collector-contrib"))}
    fora = {m: ver for m, ver in do_collector.items()
            if ver not in (f"v{v['OTELCOL_VERSAO']}", f"v{v['OTELCOL_VERSAO_ESTAVEL']}")}
    assert not fora, f"módulos do Collector fora da release de pilha/versoes.env: {fora}"
    assert otelcol["go.opentelemetry.io/collector/otelcol"] == f"v{v['OTELCOL_VERSAO']}"
    jaeger = requisitos(RAIZ / "pilha" / "jaeger" / "go.mod")
    assert jaeger["github.com/jaegertracing/jaeger"] == v["JAEGER_MODULO"]
    prometheus = requisitos(RAIZ / "pilha" / "prometheus" / "go.mod")
    assert prometheus["github.com/prometheus/prometheus"] == v["PROMETHEUS_MODULO"]


# --- Collector: validate é um ensaio (carrega, valida, monta o grafo, não escuta nada) ---

@pytest.mark.parametrize("config", CONFIGS_DO_COLLECTOR, ids=lambda c: str(c.relative_to(RAIZ)))
def test_collector_real_valida_a_config(config):
    resultado = rodar(binario("otelcol"), "validate", f"--config={config}")
    assert resultado.returncode == 0, resultado.stderr


@pytest.mark.parametrize("troca, erro_esperado", [
    (("limit_mib: 70", "limite_mib: 70"), "limite_mib"),
    (("exporters: [prometheus]", "exporters: [prometheus, otlp_grpc/nao_declarado]"),
     "otlp_grpc/nao_declarado"),
], ids=["chave-errada", "exportador-nao-declarado"])
def test_collector_real_recusa_config_quebrada(tmp_path, troca, erro_esperado):
    texto = CONFIG_COLLECTOR.read_text(encoding="utf-8")
    assert troca[0] in texto
    quebrada = tmp_path / "quebrada.yaml"
    quebrada.write_text(texto.replace(troca[0], troca[1]), encoding="utf-8")
    resultado = rodar(binario("otelcol"), "validate", f"--config={quebrada}")
    assert resultado.returncode != 0, f"validate aceitou a config quebrada:\n{resultado.stderr}"
    assert erro_esperado in resultado.stderr, resultado.stderr


# --- Prometheus -----------------------------------------------------------------------------

def test_promtool_aceita_o_prometheus_yml():
    resultado = rodar(binario("promtool"), "check", "config", CONFIG_PROMETHEUS)
    assert resultado.returncode == 0, resultado.stdout + resultado.stderr


def test_promtool_recusa_prometheus_yml_quebrado(tmp_path):
    quebrado = tmp_path / "prometheus.yml"
    quebrado.write_text(CONFIG_PROMETHEUS.read_text(encoding="utf-8")
                        .replace("scrape_interval: 10s", "scrape_interval: dez"), encoding="utf-8")
    resultado = rodar(binario("promtool"), "check", "config", quebrado)
    assert resultado.returncode != 0, resultado.stdout


# --- processos de verdade em portas livres ----------------------------------------------------

def obter(url: str, timeout=3):
    """(status, corpo) de um GET; status 0 se nada responde na porta."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resposta:
            return resposta.status, resposta.read().decode()
    except urllib.error.HTTPError as erro:
        return erro.code, erro.read().decode()
    except OSError:
        return 0, ""


def esperar(condicao, segundos: float, processo, log: Path, oque: str):
    limite = time.monotonic() + segundos
    while time.monotonic() < limite:
        if processo.poll() is not None:
            pytest.fail(f"{oque}: o processo saiu com {processo.returncode}\n{log.read_text()[-3000:]}")
        resultado = condicao()
        if resultado:
            return resultado
        time.sleep(0.3)
    pytest.fail(f"{oque}: nada em {segundos} s\n{log.read_text()[-3000:]}")


@contextmanager
def processo(comando, log: Path):
    with open(log, "w") as saida:
        p = subprocess.Popen([str(c) for c in comando], stdout=saida, stderr=subprocess.STDOUT)
    try:
        yield p
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def comando_jaeger(portas: dict, prometheus_url: str) -> list:
    # Os endereços do jaeger/config.yaml são de contêiner; aqui vão para portas livres.
    # enable_tracing=false: o jaeger_query mandaria os próprios traces para localhost:4317.
    # metrics.level=none: a telemetria do próprio Jaeger escutaria em localhost:8888.
    return [binario("jaeger"), f"--config={CONFIG_JAEGER}",
            f"--set=receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{portas['grpc']}",
            f"--set=receivers.otlp.protocols.http.endpoint=127.0.0.1:{portas['http']}",
            f"--set=extensions.healthcheckv2.http.endpoint=127.0.0.1:{portas['saude']}",
            f"--set=extensions.jaeger_query.http.endpoint=127.0.0.1:{portas['ui']}",
            f"--set=extensions.jaeger_query.grpc.endpoint=127.0.0.1:{portas['query_grpc']}",
            "--set=extensions.jaeger_query.enable_tracing=false",
            f"--set=extensions.jaeger_storage.metric_backends.prometheus.prometheus.endpoint={prometheus_url}",
            "--set=service.telemetry.metrics.level=none"]


def portas(*nomes) -> dict:
    return {nome: porta_livre() for nome in nomes}


def test_jaeger_real_sobe_com_a_config_do_laboratorio(tmp_path):
    p = portas("grpc", "http", "saude", "ui", "query_grpc")
    log = tmp_path / "jaeger.log"
    with processo(comando_jaeger(p, "http://127.0.0.1:9"), log) as jaeger:
        status = esperar(lambda: obter(f"http://127.0.0.1:{p['saude']}/status")[0] == 200 and
                         json.loads(obter(f"http://127.0.0.1:{p['saude']}/status")[1]),
                         30, jaeger, log, "healthcheckv2 /status")
        assert status["healthy"] is True
        assert obter(f"http://127.0.0.1:{p['ui']}/api/v3/services")[0] == 200


def test_pilha_real_de_ponta_a_ponta(tmp_path):
    """Um span OTLP/HTTP no Collector chega ao Jaeger e vira métrica do spanmetrics, que o
    Prometheus raspa e a aba Monitor (API /api/metrics/calls do Jaeger) lê."""
    pj = portas("grpc", "http", "saude", "ui", "query_grpc")
    pc = portas("grpc", "http", "saude", "metricas")
    porta_prometheus = porta_livre()
    prometheus_yml = yaml.safe_load(CONFIG_PROMETHEUS.read_text(encoding="utf-8"))
    prometheus_yml["global"]["scrape_interval"] = "1s"
    prometheus_yml["scrape_configs"][0]["static_configs"] = [{"targets": [f"127.0.0.1:{pc['metricas']}"]}]
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(prometheus_yml), encoding="utf-8")
    comando_collector = [
        binario("otelcol"), f"--config={CONFIG_COLLECTOR}",
        f"--set=receivers.otlp.protocols.grpc.endpoint=127.0.0.1:{pc['grpc']}",
        f"--set=receivers.otlp.protocols.http.endpoint=127.0.0.1:{pc['http']}",
        f"--set=extensions.health_check.endpoint=127.0.0.1:{pc['saude']}",
        f"--set=exporters.otlp_grpc/jaeger.endpoint=127.0.0.1:{pj['grpc']}",
        f"--set=exporters.prometheus.endpoint=127.0.0.1:{pc['metricas']}",
        "--set=connectors.spanmetrics.metrics_flush_interval=1s",
        "--set=service.telemetry.metrics.level=none"]
    comando_prometheus = [
        binario("prometheus"), f"--config.file={tmp_path / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}", f"--web.listen-address=127.0.0.1:{porta_prometheus}"]
    ui = f"http://127.0.0.1:{pj['ui']}"
    with processo(comando_prometheus, tmp_path / "prometheus.log") as prometheus, \
            processo(comando_jaeger(pj, f"http://127.0.0.1:{porta_prometheus}"), tmp_path / "jaeger.log") as jaeger, \
            processo(comando_collector, tmp_path / "otelcol.log") as collector:
        esperar(lambda: obter(f"http://127.0.0.1:{porta_prometheus}/-/ready")[0] == 200,
                30, prometheus, tmp_path / "prometheus.log", "Prometheus /-/ready")
        esperar(lambda: obter(f"http://127.0.0.1:{pj['saude']}/status")[0] == 200,
                30, jaeger, tmp_path / "jaeger.log", "Jaeger /status")
        esperar(lambda: obter(f"http://127.0.0.1:{pc['saude']}/")[0] == 200,
                30, collector, tmp_path / "otelcol.log", "Collector health_check")
        trace_id = os.urandom(16).hex()

        def enviar_span():
            agora = time.time_ns()
            corpo = {"resourceSpans": [{
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "ordens"}}]},
                "scopeSpans": [{"spans": [{
                    "traceId": trace_id if not enviados else os.urandom(16).hex(),
                    "spanId": os.urandom(8).hex(), "name": "POST /ordens", "kind": 2,
                    "startTimeUnixNano": str(agora - 5_000_000), "endTimeUnixNano": str(agora)}]}]}]}
            pedido = urllib.request.Request(f"http://127.0.0.1:{pc['http']}/v1/traces", method="POST",
                                            data=json.dumps(corpo).encode(),
                                            headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(pedido, timeout=5) as resposta:
                assert resposta.status == 200
            enviados.append(agora)
            return True

        enviados = []
        enviar_span()
        esperar(lambda: obter(f"{ui}/api/v3/traces/{trace_id}")[0] == 200,
                30, jaeger, tmp_path / "jaeger.log", f"trace {trace_id} no Jaeger")

        def taxa_no_monitor():
            enviar_span()  # a taxa precisa de amostras em mais de um instante
            fim_ms = int(time.time() * 1000)
            status, corpo = obter(f"{ui}/api/metrics/calls?service=ordens&endTs={fim_ms}"
                                  "&lookback=300000&step=1000&ratePer=60000")
            if status != 200:
                return None
            pontos = [p for m in json.loads(corpo).get("metrics") or [] for p in m["metricPoints"]]
            return any(isinstance(p["gaugeValue"].get("doubleValue"), (int, float))
                       and p["gaugeValue"]["doubleValue"] > 0 for p in pontos)

        assert esperar(taxa_no_monitor, 60, jaeger, tmp_path / "jaeger.log", "taxa na aba Monitor")
