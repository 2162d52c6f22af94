"""Autoteste do exercício 09: uma compra desfeita porque pagamentos falhou (não recusou), e a
falha desligada. Uma recusa de cartão (402) também roda saga.compensar — mas pagamentos respondeu:
não é o que o exercício pede, e o critério diz isso."""
from autoteste.consultas import compras, falha_desligada, onde_achar_o_id, trace_informado
from autoteste.exercicios import Criterio
from bookstore import config
from telemetria_local.otlp import SERVIDOR, STATUS_ERRO

TIPO = "observar"
# Este exercício liga uma falha: ela não é estado de um exercício anterior (autoteste/estado.py).
LIGA_FALHAS = True


def pagamentos_falhou(grupo: list[dict]) -> bool:
    """O span de servidor de pagamentos terminou em ERROR (a falha injetada)."""
    return any(s["servico"] == "pagamentos" and s["kind"] == SERVIDOR and s["status"] == STATUS_ERRO for s in grupo)


def desfeita(grupo: list[dict]) -> bool:
    """A saga compensou: saga.compensar e o cancelamento da reserva em livros."""
    return (any(s["nome"] == "saga.compensar" for s in grupo)
            and any(s["servico"] == "livros" and s["nome"].endswith("/cancelamento") for s in grupo))


def compensada_por_pagamentos(grupo: list[dict]) -> bool:
    """pagamentos falhou (span de servidor em ERROR) e a saga cancelou a reserva."""
    return pagamentos_falhou(grupo) and desfeita(grupo)


def conferir(fonte, resposta: str) -> list[Criterio]:
    grupos = compras(fonte.spans())
    compensadas = [t for t, grupo in grupos.items() if compensada_por_pagamentos(grupo)]
    trace = trace_informado(resposta, grupos)
    desligada = falha_desligada("pagamentos")
    if trace is not None and desfeita(trace) and not pagamentos_falhou(trace):
        dica = ("esse trace foi desfeito, mas pagamentos respondeu (uma recusa de cartão, 402): informe o da "
                "compra feita com a falha ligada (503, pagamentos_indisponivel)")
    else:
        dica = f"make confere EX=09 RESPOSTA=<id do trace marcado com ✘ / error=true>; o id está {onde_achar_o_id(fonte)}"
    return [
        Criterio(bool(compensadas), f"há compra desfeita porque pagamentos falhou: {len(compensadas)}",
                 "ligue taxa_erro 1 em pagamentos (passo 1) e compre (passo 2)"),
        Criterio(trace is not None and compensada_por_pagamentos(trace),
                 "o trace informado é de uma compra em que pagamentos falhou (span de servidor em ERROR) e a saga "
                 "cancelou a reserva (saga.compensar)", dica),
        Criterio(bool(desligada), "a falha de pagamentos foi desligada (GET /admin/falhas = 0, 0)",
                 f"curl -s -X PUT localhost:{config.porta('pagamentos')}/admin/falhas -d '{{\"latencia_ms\":0,\"taxa_erro\":0}}'"),
    ]
