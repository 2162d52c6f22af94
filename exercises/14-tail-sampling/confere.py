"""Autoteste do exercício 14: o Jaeger tem todos os erros, mas só uma parte das compras que
deram certo — menos da metade das que o ordens concluiu. No Docker ou no make local com a pilha real."""
import datetime

import requests

from autoteste.consultas import compras
from autoteste.exercicios import Criterio
from bookstore import config
from telemetria_local.fontes import FonteLocal
from telemetria_local.otlp import STATUS_ERRO
from telemetria_local.traces import entrada, status_http

TIPO = "collector"



def concluidas_na_ultima_hora() -> int:
    """Quantas compras o ordens concluiu na última hora (a verdade, sem amostragem)."""
    ordens = requests.get(config.url("ordens") + "/ordens", params={"limite": 200}, timeout=10).json()
    limite = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    return sum(1 for ordem in ordens if ordem["status"] == "concluida"
               and datetime.datetime.fromisoformat(ordem["historico"][-1]["em"]) > limite)


def conferir(fonte, resposta: str) -> list[Criterio]:
    if isinstance(fonte, FonteLocal):
        return [Criterio(False, "este exercício lê o Jaeger: precisa do Collector no caminho",
                         "`make ferramentas` (uma vez) e reinicie o `make local`: ele sobe o Collector, o Jaeger e "
                         "o Prometheus de verdade; ou use o Docker (docker compose up -d)")]
    grupos = compras(fonte.spans())
    com_erro = [g for g in grupos.values() if any(s["status"] == STATUS_ERRO for s in g)]
    boas_no_jaeger = sum(1 for g in grupos.values() if status_http(entrada(g)) == 201)
    concluidas = concluidas_na_ultima_hora()
    return [
        Criterio(bool(com_erro), f"o Jaeger tem compras com erro: {len(com_erro)}",
                 "gere carga (make carga DURACAO=60s): ela tem compras de livro inexistente, que dão erro"),
        Criterio(concluidas >= 20, f"houve compras suficientes para comparar: {concluidas} concluídas na última hora",
                 "make carga DURACAO=60s"),
        Criterio(concluidas >= 20 and boas_no_jaeger < concluidas / 2,
                 f"o Jaeger guardou só parte das que deram certo: {boas_no_jaeger} de {concluidas}",
                 "confira a política probabilistic e se o otlp_grpc/jaeger saiu do pipeline traces (só no traces/amostrados)"),
    ]
