"""Os tetos da telemetria, vistos do terminal do `make local` (pilha real).

Os tetos protegem a turma (README, "Os tetos que protegem a turma"), mas agem calados: o spanmetrics
junta numa série só (`otel_metric_overflow="true"`) as combinações de um serviço que passam do teto, o
SDK faz o mesmo com os atributos de uma métrica, e o Prometheus joga fora a coleta inteira que passa do
`sample_limit`. Sem aviso, o aluno que pôs um id no nome do span vê só gráficos estranhos. Este vigia
pergunta ao Prometheus a cada VIGIAR_A_CADA_SEGUNDOS e diz uma linha por serviço quando ele passa de um
teto (e outra quando volta, passado o `series_expiration` do spanmetrics).
"""
import sys
import threading

import requests

VIGIAR_A_CADA_SEGUNDOS = 15
# Séries de transbordo, por serviço (job = o service.name) e métrica.
TRANSBORDO = 'count by (job, __name__) ({otel_metric_overflow="true"})'
# O que o Prometheus escreve no lastError de um alvo cuja coleta passou de um teto (scrape/scrape.go).
ERROS_DE_TETO = ("sample limit exceeded", "label_limit exceeded", "label_name_length_limit exceeded",
                 "label_value_length_limit exceeded")


def familia(metrica: str) -> str:
    """traces_span_metrics_duration_milliseconds_bucket → traces_span_metrics_duration_milliseconds."""
    for sufixo in ("_bucket", "_count", "_sum"):
        if metrica.endswith(sufixo):
            return metrica[:-len(sufixo)]
    return metrica


def linha_do_transbordo(servico: str, metricas: list[str]) -> str:
    familias = sorted({familia(metrica) for metrica in metricas})
    return (f"⚠ {servico} passou do teto de séries em {', '.join(familias)}: o excesso de combinações "
            "(nome de span, atributos) vira uma série só, otel_metric_overflow=\"true\". Procure um nome de span "
            "ou um atributo com um id dentro (exercício 04) — as séries voltam 5 min depois do conserto.")


def linha_da_coleta_recusada(job: str, erro: str) -> str:
    return (f"⚠ o Prometheus recusou a coleta de {job} ({erro}; os tetos em prometheus/prometheus.yml): as "
            "métricas de todos os serviços que passam por ela ficam de fora enquanto isso — /targets mostra o erro.")


class VigiaDosLimites:
    """`VigiaDosLimites(url_do_prometheus, avisar).iniciar()` … `.parar()`."""

    def __init__(self, prometheus: str, avisar=None, a_cada: float = VIGIAR_A_CADA_SEGUNDOS):
        self.prometheus, self.a_cada = prometheus, a_cada
        self.avisar = avisar or (lambda texto: print(texto, file=sys.stderr, flush=True))
        self.avisados: set[str] = set()
        self.coletas_recusadas: set[str] = set()
        self._parando = threading.Event()
        self._thread = threading.Thread(target=self._vigiar, name="vigia-dos-limites", daemon=True)

    def _consultar(self, promql: str) -> list[dict]:
        resposta = requests.get(self.prometheus + "/api/v1/query", params={"query": promql}, timeout=5)
        resposta.raise_for_status()
        return resposta.json()["data"]["result"]

    def olhar(self) -> None:
        """Uma rodada: avisa quem passou de um teto desde a última, e quem voltou."""
        por_servico: dict[str, list[str]] = {}
        for serie in self._consultar(TRANSBORDO):
            por_servico.setdefault(serie["metric"].get("job", "?"), []).append(serie["metric"].get("__name__", "?"))
        for servico in sorted(set(por_servico) - self.avisados):
            self.avisar(linha_do_transbordo(servico, por_servico[servico]))
        for servico in sorted(self.avisados - set(por_servico)):
            self.avisar(f"✔ {servico} de volta abaixo do teto de séries")
        self.avisados = set(por_servico)
        alvos = requests.get(self.prometheus + "/api/v1/targets", params={"state": "active"}, timeout=5)
        alvos.raise_for_status()
        recusadas = {alvo["labels"].get("job", "?"): alvo["lastError"] for alvo in alvos.json()["data"]["activeTargets"]
                     if any(erro in alvo.get("lastError", "") for erro in ERROS_DE_TETO)}
        for job in sorted(set(recusadas) - self.coletas_recusadas):
            self.avisar(linha_da_coleta_recusada(job, recusadas[job]))
        self.coletas_recusadas = set(recusadas)

    def _vigiar(self) -> None:
        while not self._parando.wait(self.a_cada):
            try:
                self.olhar()
            except (requests.RequestException, ValueError, KeyError):
                continue  # o Prometheus caiu (o vigia dele avisa) ou está subindo

    def iniciar(self) -> "VigiaDosLimites":
        self._thread.start()
        return self

    def parar(self) -> None:
        self._parando.set()
        if self._thread.is_alive():
            self._thread.join(timeout=6)
