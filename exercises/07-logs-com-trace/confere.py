"""Autoteste do exercício 07: o trace_id tirado de um log é o de uma compra, com os logs dela."""
from autoteste.consultas import compras, trace_informado
from autoteste.exercicios import Criterio

TIPO = "observar"


def conferir(fonte, resposta: str) -> list[Criterio]:
    trace = trace_informado(resposta, compras(fonte.spans()))
    criterios = [
        Criterio(bool(resposta), "você informou um trace id (RESPOSTA=…)",
                 "copie o trace_id de uma linha 'ordem N → …' do log: make confere EX=07 RESPOSTA=<trace_id>"),
        Criterio(trace is not None, "o trace_id informado é de uma compra",
                 "use o trace_id de uma linha 'ordem N → …' (não o de uma linha com trace_id=0)"),
    ]
    # Os logs do mesmo trace: os do receptor local ou, na pilha real e no compose, os do VictoriaLogs.
    trace_id = trace[0]["trace_id"] if trace else None
    transicoes = [r for r in fonte.logs(trace_id) if " → " in r["corpo"]] if trace_id else []
    criterios.append(Criterio(len(transicoes) >= 2, f"os logs dessa compra chegaram com o mesmo trace_id: {len(transicoes)}",
                              "compre de novo e copie o trace_id de uma das linhas dessa compra"))
    return criterios
