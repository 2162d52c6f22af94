"""Autoteste do exercício 09: uma compra compensada por pagamentos fora, e a falha desligada."""
from autoteste.consultas import compras, falha_desligada, trace_informado
from autoteste.exercicios import Criterio
from bookstore import topologia
from telemetria_local.otlp import SERVIDOR, STATUS_ERRO

TIPO = "observar"


def compensada_por_pagamentos(grupo: list[dict]) -> bool:
    """pagamentos falhou (span de servidor em ERROR) e a saga cancelou a reserva."""
    pagamentos_caiu = any(s["servico"] == "pagamentos" and s["kind"] == SERVIDOR and s["status"] == STATUS_ERRO
                          for s in grupo)
    compensar = [s["span_id"] for s in grupo if s["nome"] == "saga.compensar"]
    cancelou = any(s["servico"] == "livros" and s["nome"].endswith("/cancelamento") for s in grupo)
    return pagamentos_caiu and bool(compensar) and cancelou


def conferir(fonte, resposta: str) -> list[Criterio]:
    grupos = compras(fonte.spans())
    compensadas = [t for t, grupo in grupos.items() if compensada_por_pagamentos(grupo)]
    trace = trace_informado(resposta, grupos)
    desligada = falha_desligada("pagamentos")
    return [
        Criterio(bool(compensadas), f"há compra compensada com pagamentos fora: {len(compensadas)}",
                 "ligue taxa_erro 1 em pagamentos (passo 1) e compre (passo 2)"),
        Criterio(trace is not None and compensada_por_pagamentos(trace), "o trace informado é o de uma compra compensada",
                 "make confere EX=09 RESPOSTA=<id do trace marcado com ✘ / error=true>"),
        Criterio(bool(desligada), "a falha de pagamentos foi desligada (GET /admin/falhas = 0, 0)",
                 f"curl -s -X PUT localhost:{topologia.porta('pagamentos')}/admin/falhas -d '{{\"latencia_ms\":0,\"taxa_erro\":0}}'"),
    ]
