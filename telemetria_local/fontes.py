"""De onde ler a telemetria: do armazém do receptor local ou do Jaeger, do Prometheus e do VictoriaLogs.

As duas fontes devolvem spans no mesmo formato (`telemetria_local.otlp.spans`), então
um critério escrito uma vez vale nos dois modos. Quem lê: os autotestes (`make confere`)
e o `make diagnostico`. O modo se descobre igual para os dois: o health_check do
Collector respondendo (porta 13133) = a pilha com Collector, Jaeger e Prometheus — a do compose
ou a do `make local` com a pilha real (modo_local/pilha_real.py), nas mesmas portas.
"""
import datetime
import json

import requests

from bookstore import config, topologia

from . import armazem, otlp

JANELA_MINUTOS = 30
JANELA_CURTA_MINUTOS = 2


def collector_no_ar() -> bool:
    try:
        return requests.get(config.url("collector-saude") + "/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


class FonteLocal:
    nome = "receptor do make local (.telemetria/)"

    def __init__(self, pasta=None):
        self.pasta = pasta or armazem.pasta_padrao()

    def spans(self) -> list[dict]:
        return armazem.itens("traces", self.pasta)

    def logs(self, trace_id: str | None = None) -> list[dict]:
        return [r for r in armazem.itens("logs", self.pasta) if trace_id is None or r["trace_id"] == trace_id]

    def nomes_de_metricas(self) -> set[str]:
        return {metrica["nome"] for metrica in armazem.itens("metrics", self.pasta)}

    def _pontos(self, nome: str, tipo: str, atributos: dict):
        """(service.instance.id, atributos do ponto, ponto) de cada ponto da métrica `nome` do `tipo`
        ("sum", "gauge") que tem `atributos`, na ordem em que chegaram."""
        for pedido in armazem.ler("metrics", self.pasta):
            for por_recurso in pedido.resource_metrics:
                instancia = otlp.atributos(por_recurso.resource.attributes).get("service.instance.id")
                for por_escopo in por_recurso.scope_metrics:
                    for metrica in por_escopo.metrics:
                        if metrica.name != nome or metrica.WhichOneof("data") != tipo:
                            continue
                        for ponto in getattr(metrica, tipo).data_points:
                            proprios = otlp.atributos(ponto.attributes)
                            if all(proprios.get(k) == v for k, v in atributos.items()):
                                yield instancia, proprios, ponto

    def total_do_contador(self, nome: str, atributos: dict) -> float:
        """A soma de um contador (cumulativo) sobre todos os workers: o último valor de cada
        série (worker + atributos) que tem `atributos`, somados."""
        ultimos = {(instancia, tuple(sorted(proprios.items()))): ponto.as_int or ponto.as_double
                   for instancia, proprios, ponto in self._pontos(nome, "sum", atributos)}
        return float(sum(ultimos.values()))

    def maximo_do_medidor(self, nome: str, atributos: dict) -> float:
        """O maior valor que um medidor (gauge) com `atributos` exportou, em qualquer worker."""
        return max((ponto.as_double if ponto.HasField("as_double") else float(ponto.as_int)
                    for _, _, ponto in self._pontos(nome, "gauge", atributos)), default=0.0)


def spans_da_resposta_do_jaeger(corpo: dict) -> list[dict]:
    """/api/v3 do Jaeger v2: OTLP/JSON (TracesData), ids em hex (cmd/query/app/apiv3/
    http_gateway.go em jaegertracing/jaeger); o grpc-gateway embrulha em {"result": …}."""
    dados = corpo.get("result", corpo)
    return otlp.spans(otlp.de_json("traces", {"resourceSpans": dados.get("resourceSpans", [])}))


def nomes_da_resposta_do_prometheus(corpo: dict) -> set[str]:
    """/api/v1/label/__name__/values: {"status": "success", "data": ["nome", …]}
    (docs/querying/api.md, "Querying label values", em prometheus/prometheus)."""
    return set(corpo.get("data", [])) if corpo.get("status") == "success" else set()


def valor_da_consulta_do_prometheus(corpo: dict) -> float | None:
    """GET /api/v1/query: {"status": "success", "data": {"resultType": "vector",
    "result": [{"metric": {…}, "value": [<unix>, "<número>"]}]}} — docs/querying/api.md
    do prometheus/prometheus. Devolve o número da primeira amostra, ou None."""
    if corpo.get("status") != "success":
        return None
    resultado = corpo.get("data", {}).get("result", [])
    return float(resultado[0]["value"][1]) if resultado else None


def consulta_do_total(nome: str, atributos: dict) -> str:
    """O PromQL que soma um contador OTel em todas as séries: no Prometheus os pontos do nome e
    dos atributos viram `_` e o contador ganha `_total` (o exporter prometheus do Collector)."""
    rotulos = ",".join(f'{chave.replace(".", "_")}="{valor}"' for chave, valor in atributos.items())
    return f"sum({nome.replace('.', '_')}_total{{{rotulos}}})"


def consulta_do_maximo(nome: str, atributos: dict) -> str:
    """O PromQL do maior valor de um medidor (gauge) OTel na janela, em qualquer série com `atributos`."""
    rotulos = ",".join(f'{chave.replace(".", "_")}="{valor}"' for chave, valor in atributos.items())
    return f"max(max_over_time({nome.replace('.', '_')}{{{rotulos}}}[{JANELA_MINUTOS}m]))"


class FonteDocker:
    """O Jaeger e o Prometheus da pilha: os do compose ou os do `make local` com a pilha real."""
    nome = "Jaeger, Prometheus e VictoriaLogs (compose ou make local com a pilha real)"

    def __init__(self, jaeger: str | None = None, prometheus: str | None = None, victorialogs: str | None = None):
        self.jaeger = jaeger or config.url("jaeger")
        self.prometheus = prometheus or config.url("prometheus")
        self.victorialogs = victorialogs or config.url("victorialogs")

    def spans(self, desde: datetime.datetime | None = None, traces_por_servico: int = 100) -> list[dict]:
        """Os spans dos traces de cada serviço na janela (JANELA_MINUTOS, ou desde `desde`), até
        `traces_por_servico` traces por serviço. Quando a janela tem mais traces que isso, o Jaeger não
        devolve necessariamente os mais novos: pergunta-se de novo pelos últimos JANELA_CURTA_MINUTOS, e a
        compra que o aluno acabou de fazer está sempre na resposta."""
        agora = datetime.datetime.now(datetime.timezone.utc)
        inicio = desde or agora - datetime.timedelta(minutes=JANELA_MINUTOS)
        vistos = {}
        for servico in topologia.SERVICOS:
            traces = self._buscar(servico, inicio, agora, traces_por_servico)
            if len({s["trace_id"] for s in traces}) >= traces_por_servico:
                traces += self._buscar(servico, max(inicio, agora - datetime.timedelta(minutes=JANELA_CURTA_MINUTOS)),
                                       agora, traces_por_servico)
            for span in traces:
                vistos[span["span_id"]] = span
        return list(vistos.values())

    def _buscar(self, servico: str, inicio: datetime.datetime, fim: datetime.datetime, limite: int) -> list[dict]:
        janela = {"query.start_time_min": inicio.isoformat(), "query.start_time_max": fim.isoformat(),
                  # Os dois nomes do mesmo limite: o Jaeger até 2.18 só conhece num_traces (sem ele, a busca
                  # é um 500 e o autoteste não acharia span nenhum); de 2.19 em diante, search_depth (e
                  # num_traces vira um apelido obsoleto). O laboratório roda 2.13 (pilha/versoes.env).
                  "query.num_traces": limite, "query.search_depth": limite}
        resposta = requests.get(f"{self.jaeger}/api/v3/traces", timeout=10,
                                params={"query.service_name": servico, **janela})
        return spans_da_resposta_do_jaeger(resposta.json()) if resposta.status_code == 200 else []  # 404: nada

    def logs(self, trace_id: str | None = None) -> list[dict]:
        """Os registros de log no VictoriaLogs (os de um trace, ou os da janela), no formato do armazém local."""
        # Em ordem de tempo, como no arquivo do receptor local (a API não promete ordem sem o sort).
        consulta = (f'trace_id:"{trace_id}"' if trace_id else f"_time:{JANELA_MINUTOS}m") + " | sort by (_time)"
        resposta = requests.get(f"{self.victorialogs}/select/logsql/query", timeout=10,
                                params={"query": consulta, "limit": LIMITE_DE_LOGS})
        resposta.raise_for_status()
        return [registro_do_victorialogs(json.loads(linha)) for linha in resposta.text.splitlines() if linha.strip()]

    def nomes_de_metricas(self) -> set[str]:
        resposta = requests.get(f"{self.prometheus}/api/v1/label/__name__/values", timeout=10)
        return nomes_da_resposta_do_prometheus(resposta.json())

    def total_do_contador(self, nome: str, atributos: dict) -> float:
        resposta = requests.get(f"{self.prometheus}/api/v1/query", params={"query": consulta_do_total(nome, atributos)},
                                timeout=10)
        return valor_da_consulta_do_prometheus(resposta.json()) or 0.0

    def maximo_do_medidor(self, nome: str, atributos: dict) -> float:
        resposta = requests.get(f"{self.prometheus}/api/v1/query", params={"query": consulta_do_maximo(nome, atributos)},
                                timeout=10)
        return valor_da_consulta_do_prometheus(resposta.json()) or 0.0

    def metricas(self) -> list[tuple[str, str, str, set[str]]]:
        """(nome, tipo, unidade, serviços) de cada métrica que o Prometheus tem: o tipo e a unidade do
        /api/v1/metadata, os serviços de uma consulta só que conta as séries por nome e serviço."""
        metadados = requests.get(f"{self.prometheus}/api/v1/metadata", timeout=10).json().get("data", {})
        consulta = 'count by (__name__, job, service_name) ({__name__=~".+"})'
        corpo = requests.get(f"{self.prometheus}/api/v1/query", params={"query": consulta}, timeout=10).json()
        servicos: dict[str, set[str]] = {}
        for serie in corpo.get("data", {}).get("result", []):
            rotulos = serie["metric"]
            # job = bookstore/<serviço> (o exportador do Collector); o spanmetrics diz o serviço em service_name.
            servico = rotulos.get("service_name") or rotulos.get("job", "").rpartition("/")[2] or "—"
            servicos.setdefault(rotulos["__name__"], set()).add(servico)
        saida = []
        for nome, de_quem in servicos.items():
            # Um histograma aparece como _bucket/_sum/_count; o metadado fica no nome sem o sufixo.
            base = next((nome.removesuffix(s) for s in ("_bucket", "_sum", "_count") if nome.removesuffix(s) in metadados),
                        nome)
            meta = (metadados.get(base) or [{}])[0]
            saida.append((nome, TIPOS_NO_PROMETHEUS.get(meta.get("type"), meta.get("type", "?")), meta.get("unit", ""),
                          de_quem))
        return sorted(saida)


TIPOS_NO_PROMETHEUS = {"counter": "contador", "gauge": "medidor", "histogram": "histograma", "summary": "resumo",
                       "unknown": "?"}


LIMITE_DE_LOGS = 5000
CAMPOS_DO_REGISTRO = {"_msg", "_time", "_stream", "_stream_id", "trace_id", "span_id", "severity_text", "severity_number"}


def registro_do_victorialogs(campos: dict) -> dict:
    """Uma linha da API LogsQL (/select/logsql/query: um objeto JSON por linha, os campos achatados — o corpo
    em `_msg`, trace_id e span_id em hex, os atributos do recurso com o nome OTel, como `service.name`)
    no formato de `telemetria_local.otlp.logs`. Os campos que não são do recurso ficam em `atributos`."""
    recurso = {chave: valor for chave, valor in campos.items()
               if chave.startswith(("service.", "deployment.", "telemetry.", "host.", "process."))}
    return {"recurso": recurso, "corpo": campos.get("_msg", ""), "trace_id": campos.get("trace_id", ""),
            "span_id": campos.get("span_id", ""), "severidade": campos.get("severity_text", ""),
            "atributos": {chave: valor for chave, valor in campos.items()
                          if chave not in CAMPOS_DO_REGISTRO and chave not in recurso}}


def responde(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def paginas_do_trace(trace_id: str) -> list[str]:
    """As páginas de um trace no navegador, das que estão no ar: a cascata no visualizador (make local com a
    pilha real) e os logs dele no VictoriaLogs (a busca trace_id:<id> já preenchida)."""
    paginas = []
    visualizador, victorialogs = config.url("visualizador"), config.url("victorialogs")
    if responde(visualizador + "/"):
        paginas.append(f"a cascata:  {visualizador}/traces/{trace_id}")
    if responde(victorialogs + "/health"):
        paginas.append(f"os logs:    {url_dos_logs(victorialogs, trace_id)}")
    return paginas


def url_dos_logs(victorialogs: str, trace_id: str) -> str:
    """A interface do VictoriaLogs com a busca dos logs de um trace já preenchida."""
    return f"{victorialogs}/select/vmui/?#/?query=trace_id%3A{trace_id}&g0.range_input=30m&g0.relative_time=last_30_minutes"


def fonte_do_ambiente():
    return FonteDocker() if collector_no_ar() else FonteLocal()
