"""De onde o autoteste lê a telemetria: do armazém local ou do Jaeger e do Prometheus.

As duas fontes devolvem spans no mesmo formato (`telemetria_local.otlp.spans`), então
um critério escrito uma vez vale nos dois modos. O modo é o mesmo que o
`make diagnostico` descobre: Collector respondendo em 13133 = Docker.
"""
import datetime
import os

import requests

from telemetria_local import armazem, otlp

JANELA_MINUTOS = 30
SERVICOS = ("ordens", "livros", "pagamentos")


def collector_no_ar(url: str | None = None) -> bool:
    url = url or os.environ.get("COLLECTOR_SAUDE_URL", "http://127.0.0.1:13133/")
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def url_do_servico(nome: str) -> str:
    padrao = {"livros": 8081, "ordens": 8082, "pagamentos": 8083}[nome]
    return f"http://127.0.0.1:{os.environ.get(f'PORTA_{nome.upper()}', padrao)}"


class FonteLocal:
    nome = "receptor do make local (.telemetria/)"

    def __init__(self, pasta=None):
        self.pasta = pasta or armazem.pasta_padrao()

    def spans(self) -> list[dict]:
        return armazem.itens("traces", self.pasta)

    def logs(self) -> list[dict]:
        return armazem.itens("logs", self.pasta)

    def nomes_de_metricas(self) -> set[str]:
        return {metrica["nome"] for metrica in armazem.itens("metrics", self.pasta)}


def spans_da_resposta_do_jaeger(corpo: dict) -> list[dict]:
    """/api/v3 do Jaeger v2: OTLP/JSON (TracesData), ids em hex (cmd/query/app/apiv3/
    http_gateway.go em jaegertracing/jaeger); o grpc-gateway embrulha em {"result": …}."""
    dados = corpo.get("result", corpo)
    return otlp.spans(otlp.de_json("traces", {"resourceSpans": dados.get("resourceSpans", [])}))


def nomes_da_resposta_do_prometheus(corpo: dict) -> set[str]:
    """/api/v1/label/__name__/values: {"status": "success", "data": ["nome", …]}
    (docs/querying/api.md, "Querying label values", em prometheus/prometheus)."""
    return set(corpo.get("data", [])) if corpo.get("status") == "success" else set()


class FonteDocker:
    nome = "Jaeger e Prometheus do compose"

    def __init__(self):
        self.jaeger = os.environ.get("JAEGER_URL", "http://127.0.0.1:16686")
        self.prometheus = os.environ.get("PROMETHEUS_URL", "http://127.0.0.1:9090")

    def spans(self) -> list[dict]:
        agora = datetime.datetime.now(datetime.timezone.utc)
        janela = {"query.start_time_min": (agora - datetime.timedelta(minutes=JANELA_MINUTOS)).isoformat(),
                  "query.start_time_max": agora.isoformat(), "query.search_depth": 100}
        vistos = {}
        for servico in SERVICOS:
            resposta = requests.get(f"{self.jaeger}/api/v3/traces", timeout=10,
                                    params={"query.service_name": servico, **janela})
            if resposta.status_code == 200:  # 404: nada na janela
                for span in spans_da_resposta_do_jaeger(resposta.json()):
                    vistos[span["span_id"]] = span
        return list(vistos.values())

    def logs(self) -> list[dict]:
        return []  # no compose, os logs OTLP vão para o debug do Collector, não para uma API

    def nomes_de_metricas(self) -> set[str]:
        resposta = requests.get(f"{self.prometheus}/api/v1/label/__name__/values", timeout=10)
        return nomes_da_resposta_do_prometheus(resposta.json())


def fonte_do_ambiente():
    return FonteDocker() if collector_no_ar() else FonteLocal()
