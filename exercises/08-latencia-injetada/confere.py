"""Autoteste do exercício 08: uma compra com livros lento, o trace dela, e a falha desligada."""
from autoteste.consultas import compras, falha_desligada, trace_informado
from autoteste.exercicios import Criterio
from bookstore import config
from telemetria_local.otlp import SERVIDOR

TIPO = "observar"
# Este exercício liga uma falha: ela não é estado de um exercício anterior (autoteste/estado.py).
LIGA_FALHAS = True

LATENCIA_MS = 300


def spans_lentos_de_livros(grupo: list[dict]) -> list[dict]:
    return [s for s in grupo if s["servico"] == "livros" and s["kind"] == SERVIDOR
            and (s["fim_ns"] - s["inicio_ns"]) >= LATENCIA_MS * 1_000_000
            and any(nome == "bookstore.falha.latencia" for nome, _ in s["eventos"])]


def conferir(fonte, resposta: str) -> list[Criterio]:
    grupos = compras(fonte.spans())
    lentas = {trace_id: grupo for trace_id, grupo in grupos.items() if spans_lentos_de_livros(grupo)}
    trace = trace_informado(resposta, grupos)
    desligada = falha_desligada("livros")
    return [
        Criterio(bool(lentas), f"há compra com um span de livros de {LATENCIA_MS} ms ou mais: {len(lentas)}",
                 "ligue a latência em livros (passo 1) e compre de novo (passo 2)"),
        Criterio(trace is not None and bool(spans_lentos_de_livros(trace)), "o trace informado é de uma compra lenta",
                 "make confere EX=08 RESPOSTA=<id do trace da compra feita com a latência ligada>"),
        Criterio(bool(desligada), "a falha de livros foi desligada (GET /admin/falhas = 0, 0)",
                 f"curl -s -X PUT localhost:{config.porta('livros')}/admin/falhas -d '{{\"latencia_ms\":0,\"taxa_erro\":0}}'"
                 if desligada is not None else "livros não respondeu em /admin/falhas: o laboratório está no ar?"),
    ]
