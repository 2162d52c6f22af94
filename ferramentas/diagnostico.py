"""`make diagnostico`: "não aparece trace nenhum" — o que está faltando, linha a linha.

Para o instrutor antes da aula e para o aluno quando algo não aparece. Descobre
sozinho o modo: se o health_check do Collector responde (porta 13133), é a pilha
com Collector, Jaeger e Prometheus (o compose, ou o `make local` com a pilha real);
senão, o `make local` com o receptor OTLP local. Cada linha é ✔ ou ✘, e cada ✘ diz
o que fazer.

A compra de teste usa o cartão recusado (…0002): atravessa os três serviços
(reserva, cobrança, cancelamento) e devolve o estoque — o diagnóstico não gasta
livro nenhum. Ela leva um `traceparent` criado aqui, então sabemos o trace_id
antes de procurá-lo no Jaeger (ou no armazém local).
"""
import secrets
import sys
import time
from pathlib import Path

import requests

from autoteste import estado
from bookstore import config, topologia
from supervisao.portas import porta_ocupada, quem_usa_a_porta
from telemetria_local import armazem
from telemetria_local.em_voo import (ESPERA_PELA_COMPRA_SEGUNDOS, FINAIS, MARGEM_SEGUNDOS,
                                     RASPAGEM_DO_PROMETHEUS_SEGUNDOS, Espera)
from telemetria_local.fontes import (FonteDocker, collector_no_ar, spans_da_resposta_do_jaeger,
                                     valor_da_consulta_do_prometheus)

PRAZO_DO_TRACE_SEGUNDOS = 10
SPANMETRICS_SEGUNDOS = 15  # metrics_flush_interval do spanmetrics em otel-collector/config.yaml
CARTAO_RECUSADO = "4000000000000002"
SERIES_DO_MONITOR = "traces_span_metrics_calls_total"


class Relatorio:
    def __init__(self, saida=None):
        self.saida = saida or sys.stdout
        self.falhas = 0

    def linha(self, ok: bool, texto: str, conserto: str = "") -> bool:
        print(f"{'✔' if ok else '✘'} {texto}", file=self.saida, flush=True)
        if not ok:
            self.falhas += 1
            if conserto:
                print(f"    → {conserto}", file=self.saida, flush=True)
        return ok


# --- as verificações -----------------------------------------------------------------------
def portas(relatorio: Relatorio, esperadas: dict[str, int]) -> None:
    for nome, porta in esperadas.items():
        dono = quem_usa_a_porta(porta)
        escuta = dono is not None or porta_ocupada(porta)
        relatorio.linha(escuta, f"porta {porta} ({nome}): {dono or ('em uso' if escuta else 'ninguém escuta')}",
                        "suba o laboratório: `docker compose up -d` ou `make local`")


def servicos_prontos(relatorio: Relatorio, urls: dict[str, str]) -> bool:
    todos = True
    for nome, url in urls.items():
        try:
            resposta = requests.get(url + "/ready", timeout=3)
            ok, detalhe = resposta.status_code == 200, f"{resposta.status_code} {resposta.text.strip()[:80]}"
        except requests.RequestException as erro:
            ok, detalhe = False, type(erro).__name__
        todos &= relatorio.linha(ok, f"{nome} /ready: {detalhe}",
                                 f"veja o log: `docker compose logs {nome}` (ou o terminal do make local); "
                                 "503 é o banco do serviço fora do ar")
    return todos


PARADA_NOS_SERVICOS = "a compra não atravessou os serviços: veja as linhas de /ready acima"
# ORDENS_SAGA=mensagens: o /ready de cada serviço diz só do banco dele (o gateway o usa para tirar réplicas);
# com o broker fora, o POST /ordens continua 202 e a compra espera no outbox de ordens até ele voltar.
PARADA_NAS_FILAS = ("a compra aceita (202) não andou nas filas: o RabbitMQ está no ar (porta {porta})? Enquanto ele "
                    "está fora, POST /ordens segue respondendo 202 e a compra espera no outbox de ordens; no make local "
                    "ele volta sozinho (✔ RabbitMQ de volta). Os mensageiros: o terminal do make local")


def comprar_com_trace_conhecido(relatorio: Relatorio, espera: Espera, url_ordens: str) -> str | None:
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    try:
        resposta = requests.post(url_ordens + "/ordens", timeout=20, headers={"traceparent": traceparent},
                                 json={"itens": [{"livro_id": 1, "quantidade": 1}], "cartao": CARTAO_RECUSADO,
                                       "cliente": "make diagnostico"})
        status = resposta.json().get("status")
        if resposta.status_code == 202:  # ORDENS_SAGA=mensagens: a saga anda nas filas depois da resposta
            status = espera.ate(lambda: _status_final(url_ordens + resposta.headers["Location"]),
                                time.monotonic() + ESPERA_PELA_COMPRA_SEGUNDOS) or status
        # Recusado (ou o livro 1 esgotou): a saga rodou — 402/409 pelo HTTP, o status final pelas filas.
        ok = status in ("pagamento_recusado", "estoque_indisponivel")
        detalhe = f"{resposta.status_code} {status}"
        conserto = PARADA_NAS_FILAS if resposta.status_code == 202 else PARADA_NOS_SERVICOS
    except (requests.RequestException, ValueError, KeyError) as erro:
        ok, detalhe, conserto = False, type(erro).__name__, PARADA_NOS_SERVICOS
    relatorio.linha(ok, f"compra de teste (cartão recusado, estoque devolvido): {detalhe}; trace {trace_id}",
                    conserto.format(porta=config.porta("rabbitmq")))
    return trace_id if ok else None


def _status_final(url_da_ordem: str) -> str | None:
    status = requests.get(url_da_ordem, timeout=3).json().get("status")
    return status if status in FINAIS else None


def trace_no_jaeger(relatorio: Relatorio, espera: Espera, url_jaeger: str, trace_id: str) -> None:
    detalhe = [""]

    def spans():
        try:
            resposta = requests.get(f"{url_jaeger}/api/v3/traces/{trace_id}", timeout=3)
            detalhe[0] = f"HTTP {resposta.status_code}"
            return spans_da_resposta_do_jaeger(resposta.json()) if resposta.status_code == 200 else []
        except (requests.RequestException, ValueError) as erro:
            detalhe[0] = type(erro).__name__
            return []
    achados = _esperar_o_trace(espera, spans)
    _trace_encontrado(relatorio, achados, f"no Jaeger ({detalhe[0]})",
                      "o trace não chegou ao Jaeger: `docker compose logs otel-collector` (no make local: "
                      ".telemetria/pilha/otelcol.log) — memory_limiter recusando? exportador sem conexão com o "
                      "Jaeger? — e `docker compose ps jaeger` (no make local, o terminal diz se ele caiu)")


def trace_no_armazem_local(relatorio: Relatorio, espera: Espera, pasta: Path, trace_id: str) -> None:
    achados = _esperar_o_trace(espera, lambda: [s for s in armazem.itens("traces", pasta) if s["trace_id"] == trace_id])
    _trace_encontrado(relatorio, achados, f"no receptor local ({armazem.arquivo(pasta, 'traces')})",
                      "o make local foi iniciado com OTEL_EXPORTER_OTLP_ENDPOINT (modo híbrido)? Então o trace "
                      "está lá, não aqui. Senão, reinicie o make local e veja se ele diz 'Receptor OTLP local'")


def _esperar_o_trace(espera: Espera, ler) -> list[dict]:
    """Os spans do trace da compra de teste, esperando até ele chegar com os três serviços."""
    ultimos = [[]]

    def chegou():
        ultimos[0] = ler()
        return set(topologia.SERVICOS) <= {s["servico"] for s in ultimos[0]}
    espera.ate(chegou, time.monotonic() + PRAZO_DO_TRACE_SEGUNDOS, intervalo=0.5)
    return ultimos[0]


def _trace_encontrado(relatorio: Relatorio, spans: list[dict], onde: str, conserto: str) -> None:
    servicos = sorted({s["servico"] for s in spans})
    relatorio.linha(set(topologia.SERVICOS) <= set(servicos),
                    f"trace da compra {onde} em até {PRAZO_DO_TRACE_SEGUNDOS} s: {len(spans)} spans, "
                    f"serviços {', '.join(servicos) or 'nenhum'}", conserto)


def series_no_prometheus(relatorio: Relatorio, espera: Espera, url_prometheus: str, comprou_em: float) -> None:
    consultas = {
        'count({__name__=~"bookstore_.+"})': ("séries bookstore_* (métricas de negócio)",
                                              "as métricas saem a cada 10 s e o Prometheus lê a cada 10 s: "
                                              "espere ~20 s; senão `docker compose logs otel-collector`"),
        f"count({SERIES_DO_MONITOR})": (f"{SERIES_DO_MONITOR} (aba Monitor do Jaeger)",
                                        "o spanmetrics publica a cada 15 s: espere ~30 s depois da primeira "
                                        "compra; se continuar vazio, confira namespace/unit do spanmetrics"),
    }
    for consulta, (nome, conserto) in consultas.items():
        def valor():
            try:
                corpo = requests.get(url_prometheus + "/api/v1/query", params={"query": consulta}, timeout=5).json()
                return valor_da_consulta_do_prometheus(corpo)
            except (requests.RequestException, ValueError):
                return None
        # A compra de teste entra na próxima exportação e na raspagem seguinte: espera-se por elas.
        achado = espera.ate(valor, _prazo_das_metricas(espera, comprou_em), intervalo=1.0)
        relatorio.linha(bool(achado), f"Prometheus: {nome}: {int(achado or 0)}", conserto)


def _prazo_das_metricas(espera: Espera, comprou_em: float) -> float:
    """Até quando (monotonic) a compra de teste aparece nas métricas: a próxima exportação
    (OTEL_METRIC_EXPORT_INTERVAL) e, no Docker, a raspagem do Prometheus, com margem."""
    if espera.docker:  # e o spanmetrics do Collector publica as dele a cada 15 s
        atraso = max(espera.intervalos.metricas, SPANMETRICS_SEGUNDOS) + RASPAGEM_DO_PROMETHEUS_SEGUNDOS
    else:
        atraso = espera.intervalos.metricas
    atraso += MARGEM_SEGUNDOS
    return time.monotonic() + max(0.0, comprou_em + atraso - time.time())


# O texto da página provisória que o Jaeger serve quando foi construído sem a interface (o make local).
PAGINA_PROVISORIA_DO_JAEGER = "not the Jaeger UI"


def interfaces_web(relatorio: Relatorio) -> None:
    """Cada página que o aluno abre no navegador responde? Na pilha sem a interface do Jaeger (o make
    local), a cascata dos traces é o visualizador."""
    jaeger = _pagina(config.url("jaeger") + "/")
    com_interface_do_jaeger = jaeger is not None and PAGINA_PROVISORIA_DO_JAEGER not in jaeger
    paginas = {"Prometheus (interface)": (config.url("prometheus") + "/query", "Error opening",
                                          "a interface do Prometheus não foi construída: make ferramentas (precisa do "
                                          "Node/npm) e reinicie o make local; a API /api/v1 funciona sem ela"),
               "Logs (VictoriaLogs)": (config.url("victorialogs") + "/select/vmui/", None,
                                       "o VictoriaLogs não responde: veja o terminal do make local (ou "
                                       "`docker compose ps victorialogs`)"),
               "Painéis (VictoriaMetrics)": (config.url("paineis") + "/vmui/custom-dashboards", None,
                                             "os painéis não respondem: veja o terminal do make local (ou "
                                             "`docker compose ps paineis`)")}
    if com_interface_do_jaeger:
        relatorio.linha(True, f"Jaeger (interface): {config.url('jaeger')}/ respondeu")
    else:
        paginas["Traces (visualizador)"] = (config.url("visualizador") + "/", None,
                                            "o visualizador de traces não responde: veja o terminal do make local "
                                            "(.telemetria/pilha/visualizador.log); sem ele, make traces mostra a árvore")
    for nome, (url, erro_na_pagina, conserto) in paginas.items():
        texto = _pagina(url)
        ok = texto is not None and (erro_na_pagina is None or erro_na_pagina not in texto)
        detalhe = "respondeu" if ok else ("não respondeu" if texto is None else f"mostra um erro: {texto.strip()[:80]}")
        relatorio.linha(ok, f"{nome}: {url} {detalhe}", conserto)


def _pagina(url: str) -> str | None:
    try:
        resposta = requests.get(url, timeout=3)
        return resposta.text if resposta.status_code == 200 else None
    except requests.RequestException:
        return None


def logs_no_victorialogs(relatorio: Relatorio, espera: Espera, trace_id: str) -> None:
    fonte = FonteDocker()

    def registros():
        try:
            return fonte.logs(trace_id)
        except (requests.RequestException, ValueError):
            return []
    achados = espera.ate(registros, time.monotonic() + PRAZO_DO_TRACE_SEGUNDOS, intervalo=0.5) or []
    servicos = sorted({r["recurso"].get("service.name", "?") for r in achados})
    relatorio.linha(bool(achados), f"logs da compra no VictoriaLogs (trace_id:{trace_id}): {len(achados)} registros, "
                    f"serviços {', '.join(servicos) or 'nenhum'}",
                    "os logs não chegaram: o pipeline logs do otel-collector/config.yaml exporta para "
                    "otlp_http/victorialogs? Veja o log do Collector (no make local: .telemetria/pilha/otelcol.log)")


def metricas_no_armazem_local(relatorio: Relatorio, espera: Espera, pasta: Path, comprou_em: float) -> None:
    def negocio_no_armazem():
        return sorted({m["nome"] for m in armazem.itens("metrics", pasta) if m["nome"].startswith("bookstore.")})
    # Logo depois de "Laboratório pronto", nenhum worker exportou ainda: a primeira sai um intervalo depois.
    negocio = espera.ate(negocio_no_armazem, _prazo_das_metricas(espera, comprou_em))
    relatorio.linha(bool(negocio), f"métricas bookstore.* no receptor local: {', '.join(negocio) or 'nenhuma'}",
                    f"nenhuma chegou em {espera.intervalos.metricas + MARGEM_SEGUNDOS:g} s (OTEL_METRIC_EXPORT_INTERVAL "
                    "e a margem): os serviços exportam para este receptor? Veja o terminal do make local")


def main() -> int:
    relatorio = Relatorio()
    portas_servicos = config.portas_do_ambiente()
    urls = {nome: config.url(nome) for nome in topologia.SERVICOS}
    saude_collector = config.url("collector-saude")
    docker = collector_no_ar()
    modo = (f"pilha com Collector, Jaeger e Prometheus — o compose ou o make local com a pilha real "
            f"(o Collector respondeu em {saude_collector})" if docker
            else f"local (nenhum Collector em {saude_collector}; olhando o receptor do make local)")
    print(f"make diagnostico — modo {modo}\n")

    otlp_portas = {"OTLP gRPC": config.porta("otlp-grpc"), "OTLP HTTP": config.porta("otlp-http")}
    extras = {"Jaeger": config.porta("jaeger"), "Prometheus": config.porta("prometheus"),
              "VictoriaLogs": config.porta("victorialogs"), "Painéis": config.porta("paineis")} if docker else {}
    portas(relatorio, {**portas_servicos, **otlp_portas, **extras})
    if docker:
        relatorio.linha(True, f"Collector health_check: {saude_collector} respondeu 200")
    servicos_prontos(relatorio, urls)
    espera = Espera(docker=docker)
    trace_id = comprar_com_trace_conhecido(relatorio, espera, urls["ordens"])
    comprou_em = time.time()
    if docker:
        if trace_id:
            trace_no_jaeger(relatorio, espera, config.url("jaeger"), trace_id)
        series_no_prometheus(relatorio, espera, config.url("prometheus"), comprou_em)
        if trace_id:
            logs_no_victorialogs(relatorio, espera, trace_id)
        interfaces_web(relatorio)
    else:
        pasta = armazem.pasta_padrao()
        if trace_id:
            trace_no_armazem_local(relatorio, espera, pasta, trace_id)
        metricas_no_armazem_local(relatorio, espera, pasta, comprou_em)
    # Não é um problema do laboratório, mas explica muita telemetria estranha: o que um exercício deixou.
    avisos = estado.avisos()
    if avisos:
        print("\n" + "\n".join(avisos))
    print(f"\n{'Tudo certo.' if not relatorio.falhas else f'{relatorio.falhas} problema(s) acima.'}")
    return 0 if not relatorio.falhas else 1


if __name__ == "__main__":
    sys.exit(main())
