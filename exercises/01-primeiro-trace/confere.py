"""Autoteste do exercício 01: a compra aconteceu e o trace informado é o dela."""
from autoteste.consultas import completa, compras, trace_informado
from autoteste.exercicios import Criterio

TIPO = "observar"


def conferir(fonte, resposta: str) -> list[Criterio]:
    grupos = compras(fonte.spans())
    trace = trace_informado(resposta, grupos)
    return [
        Criterio(bool(grupos), f"há trace de compra (POST /ordens) no {fonte.nome}: {len(grupos)}",
                 "compre um livro (passo 1) e espere ~2 s"),
        Criterio(bool(resposta), "você informou um trace id (RESPOSTA=…)",
                 "make confere EX=01 RESPOSTA=<o id que você achou no Jaeger ou no make traces>"),
        Criterio(trace is not None, "o trace informado é de uma compra",
                 "copie o id do trace do POST /ordens (8 caracteres ou mais); no Jaeger ele está no topo do trace"),
        Criterio(trace is not None and completa(trace), "o trace atravessa ordens, livros e pagamentos e tem SQL",
                 "escolha uma compra que deu certo (201): as recusadas também passam pelos três, as de livro "
                 "inexistente não"),
    ]
