"""Autoteste do exercício 01: a compra aconteceu e o trace informado é o dela."""
from autoteste.consultas import completa, compras, trace_informado


def conferir(fonte, resposta: str) -> list[tuple[bool, str, str]]:
    grupos = compras(fonte.spans())
    trace = trace_informado(resposta, grupos)
    return [
        (bool(grupos), f"há trace de compra (POST /ordens) no {fonte.nome}: {len(grupos)}",
         "compre um livro (passo 1) e espere ~2 s"),
        (bool(resposta), "você informou um trace id (RESPOSTA=…)",
         "make confere EX=01 RESPOSTA=<o id que você achou no Jaeger ou no make traces>"),
        (trace is not None, "o trace informado é de uma compra",
         "copie o id do trace do POST /ordens (8 caracteres ou mais); no Jaeger ele está no topo do trace"),
        (trace is not None and completa(trace), "o trace atravessa ordens, livros e pagamentos e tem SQL",
         "escolha uma compra que deu certo (201): as recusadas também passam pelos três, as de livro "
         "inexistente não"),
    ]
