"""Autoteste do exercício 11: a corrida aconteceu, só uma compra levou, e o trace informado é o dela."""
from autoteste.consultas import compras, trace_informado
from autoteste.exercicios import Criterio
from telemetria_local.traces import entrada, status_http

TIPO = "observar"

LIVRO = 10


def disputas(grupos: dict) -> dict[str, list[dict]]:
    """Os traces de compra do livro 10 (o atributo bookstore.livro.ids de saga.validar_catalogo)."""
    return {t: grupo for t, grupo in grupos.items()
            if any(s["nome"] == "saga.validar_catalogo" and LIVRO in (s["atributos"].get("bookstore.livro.ids") or [])
                   for s in grupo)}


def conferir(fonte, resposta: str) -> list[Criterio]:
    corrida = disputas(compras(fonte.spans()))
    vencedoras = [t for t, grupo in corrida.items() if status_http(entrada(grupo)) == 201]
    trace = trace_informado(resposta, corrida)
    return [
        Criterio(len(corrida) >= 10, f"houve corrida: {len(corrida)} compras do livro {LIVRO}",
                 "dispare as 20 compras juntas (passo 1)"),
        Criterio(len(vencedoras) == 1, f"só uma compra levou o último exemplar: {len(vencedoras)}",
                 "se nenhuma levou, o livro 10 já tinha sido vendido antes: reinicie o laboratório e repita"),
        Criterio(trace is not None and trace[0]["trace_id"] in vencedoras, "o trace informado é o da compra vencedora",
                 "make confere EX=11 RESPOSTA=<id do trace com POST /ordens 201 do livro 10>"),
    ]
