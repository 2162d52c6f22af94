"""Autoteste do exercício 13: o que o Collector entrega ao Jaeger já vem sem o final do cartão
e sem os spans de /admin/falhas. Só no Docker: no make local não há Collector no caminho."""
import time

from autoteste.consultas import compras
from autoteste.fontes import FonteLocal

SOMENTE_DOCKER = True
JANELA_ADMIN_NS = 2 * 60 * 10**9


def conferir(fonte, resposta: str) -> list[tuple[bool, str, str]]:
    if isinstance(fonte, FonteLocal):
        return [(False, "este exercício lê o Jaeger: precisa do Collector no caminho",
                 "suba o Docker (docker compose up -d) ou use o modo híbrido do make local")]
    spans = fonte.spans()
    grupos = compras(spans)
    recente = max(grupos.values(), key=lambda grupo: min(s["inicio_ns"] for s in grupo), default=[])
    decisoes = [s for s in recente if s["nome"] == "pagamentos.decidir"]
    agora_ns = time.time_ns()
    admin = [s for s in spans if s["atributos"].get("http.route") == "/admin/falhas"
             and agora_ns - s["inicio_ns"] < JANELA_ADMIN_NS]
    return [
        (bool(decisoes), "há uma compra recente no Jaeger", "compre um livro (passo 3)"),
        (bool(decisoes) and all("bookstore.cartao.final" not in s["atributos"] for s in decisoes),
         "a compra mais recente chegou sem bookstore.cartao.final",
         "processador attributes/dados_pessoais com delete, no pipeline traces, e reinicie o Collector"),
        (not admin, "nenhum span de /admin/falhas nos últimos 2 minutos",
         "processador filter/admin no pipeline traces; e faça o PUT do passo 3 depois de reiniciar"),
    ]
