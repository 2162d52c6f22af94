"""Autoteste do exercício 01: a compra aconteceu e o trace informado é o dela."""
from autoteste.consultas import completa, compras, onde_achar_o_id, parece_trace_id, trace_informado
from autoteste.exercicios import Criterio

TIPO = "observar"


def conferir(fonte, resposta: str) -> list[Criterio]:
    grupos = compras(fonte.spans())
    trace = trace_informado(resposta, grupos)
    onde = onde_achar_o_id(fonte)
    return [
        Criterio(bool(grupos), f"há trace de compra (POST /ordens) no {fonte.nome}: {len(grupos)}",
                 "compre um livro (passo 1)"),
        Criterio(parece_trace_id(resposta), f"você informou um trace id (hexadecimal, 8 a 32 caracteres): "
                 f"{resposta.strip() or '(nada)'}",
                 f"make confere EX=01 RESPOSTA=<o id que você achou>; ele está {onde}"),
        Criterio(trace is not None, "o trace informado é de uma compra",
                 f"copie o id do trace do POST /ordens (8 caracteres ou mais), {onde}; não o id de um span"),
        Criterio(trace is not None and completa(trace), "o trace atravessa ordens, livros e pagamentos e tem SQL",
                 "escolha uma compra que deu certo (201): as recusadas também passam pelos três, as de livro "
                 "inexistente não"),
    ]
