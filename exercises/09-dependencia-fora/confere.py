"""Autoteste do exercício 09: uma compra compensada por pagamentos fora, e a falha desligada."""
import requests

from autoteste.consultas import compras, trace_informado
from autoteste.fontes import url_do_servico

ERRO, SERVIDOR = 2, 2


def compensada_por_pagamentos(grupo: list[dict]) -> bool:
    """pagamentos falhou (span de servidor em ERROR) e a saga cancelou a reserva."""
    pagamentos_caiu = any(s["servico"] == "pagamentos" and s["kind"] == SERVIDOR and s["status"] == ERRO
                          for s in grupo)
    compensar = [s["span_id"] for s in grupo if s["nome"] == "saga.compensar"]
    cancelou = any(s["servico"] == "livros" and s["nome"].endswith("/cancelamento") for s in grupo)
    return pagamentos_caiu and bool(compensar) and cancelou


def conferir(fonte, resposta: str) -> list[tuple[bool, str, str]]:
    grupos = compras(fonte.spans())
    compensadas = [t for t, grupo in grupos.items() if compensada_por_pagamentos(grupo)]
    trace = trace_informado(resposta, grupos)
    try:
        desligada = requests.get(url_do_servico("pagamentos") + "/admin/falhas", timeout=5).json() == {
            "latencia_ms": 0, "taxa_erro": 0}
    except (requests.RequestException, ValueError):
        desligada = False
    return [
        (bool(compensadas), f"há compra compensada com pagamentos fora: {len(compensadas)}",
         "ligue taxa_erro 1 em pagamentos (passo 1) e compre (passo 2)"),
        (trace is not None and compensada_por_pagamentos(trace), "o trace informado é o de uma compra compensada",
         "make confere EX=09 RESPOSTA=<id do trace marcado com ✘ / error=true>"),
        (desligada, "a falha de pagamentos foi desligada (GET /admin/falhas = 0, 0)",
         "curl -s -X PUT localhost:8083/admin/falhas -d '{\"latencia_ms\":0,\"taxa_erro\":0}'"),
    ]
