"""Autoteste do exercício 14: o Jaeger tem todos os erros, mas só uma parte das compras que
deram certo — menos da metade das que o ordens concluiu. No Docker ou no make local com a pilha real.

Compara o que veio DEPOIS da troca de config (no make local, o registro do lançador; ver o 13): as
compras de antes, todas guardadas, não diluem a amostragem, e a contagem de ordens não para na primeira
página do GET /ordens."""
import datetime

import requests

from autoteste.consultas import compras, config_do_collector_em_vigor
from autoteste.exercicios import Criterio
from bookstore import config
from telemetria_local.fontes import JANELA_MINUTOS, FonteLocal
from telemetria_local.otlp import STATUS_ERRO
from telemetria_local.traces import entrada, status_http

TIPO = "collector"



# O Jaeger do laboratório guarda até 800 traces (jaeger/config.yaml): pedir todos os da janela.
TRACES_POR_SERVICO = 800
COMPRAS_NECESSARIAS = 20


def concluidas_desde(inicio: datetime.datetime, por_pagina: int = 200) -> int:
    """Quantas compras feitas desde `inicio` o ordens concluiu (a verdade, sem amostragem), página por
    página: GET /ordens vem da mais nova para a mais antiga (no máximo 200 por página)."""
    concluidas, offset = 0, 0
    while True:
        pagina = requests.get(config.url("ordens") + "/ordens", params={"limite": por_pagina, "offset": offset},
                              timeout=10).json()
        recentes = [o for o in pagina if datetime.datetime.fromisoformat(o["historico"][0]["em"]) >= inicio]
        concluidas += sum(1 for ordem in recentes if ordem["status"] == "concluida")
        if len(recentes) < len(pagina) or len(pagina) < por_pagina:
            return concluidas
        offset += por_pagina


def conferir(fonte, resposta: str) -> list[Criterio]:
    if isinstance(fonte, FonteLocal):
        return [Criterio(False, "este exercício lê o Jaeger: precisa do Collector no caminho",
                         "`make ferramentas` (uma vez) e reinicie o `make local`: ele sobe o Collector, o Jaeger e "
                         "o Prometheus de verdade; ou use o Docker (docker compose up -d)")]
    # Antes da troca o Collector guardava tudo: só as compras e os traces de DEPOIS dela contam. Sem o
    # registro da troca (o Docker), a janela do Jaeger (30 min) nos dois lados.
    aceita_em, _, _ = config_do_collector_em_vigor()
    agora = datetime.datetime.now(datetime.timezone.utc)
    inicio = (datetime.datetime.fromtimestamp(aceita_em, datetime.timezone.utc) if aceita_em
              else agora - datetime.timedelta(minutes=JANELA_MINUTOS))
    desde = "desde a última troca de config do Collector" if aceita_em else f"nos últimos {JANELA_MINUTOS} min"
    grupos = compras(fonte.spans(desde=inicio, traces_por_servico=TRACES_POR_SERVICO))
    com_erro = [g for g in grupos.values() if any(s["status"] == STATUS_ERRO for s in g)]
    boas_no_jaeger = sum(1 for g in grupos.values() if status_http(entrada(g)) == 201)
    concluidas = concluidas_desde(inicio)
    return [
        Criterio(bool(com_erro), f"o Jaeger tem compras com erro {desde}: {len(com_erro)}",
                 "gere carga (make carga DURACAO=60s): ela tem compras de livro inexistente, que dão erro"),
        Criterio(concluidas >= COMPRAS_NECESSARIAS,
                 f"houve compras para comparar {desde}: {concluidas} concluídas (precisa de {COMPRAS_NECESSARIAS})",
                 "make carga DURACAO=60s, depois de o Collector reiniciar com a config nova"),
        Criterio(concluidas >= COMPRAS_NECESSARIAS and boas_no_jaeger < concluidas / 2,
                 f"o Jaeger guardou só parte das que deram certo {desde}: {boas_no_jaeger} de {concluidas}",
                 "confira a política probabilistic e se o otlp_grpc/jaeger saiu do pipeline traces (só no traces/amostrados)"),
    ]
