"""Autoteste do exercício 13: o que o Collector entrega ao Jaeger já vem sem o final do cartão
e sem os spans de /admin/falhas. Lê o Jaeger: no Docker ou no make local com a pilha real
(com o receptor local não há Collector no caminho)."""
import time

from autoteste.consultas import compras, mais_recente
from autoteste.exercicios import Criterio
from telemetria_local.fontes import FonteLocal

TIPO = "collector"

JANELA_ADMIN_NS = 2 * 60 * 10**9


def conferir(fonte, resposta: str) -> list[Criterio]:
    if isinstance(fonte, FonteLocal):
        return [Criterio(False, "este exercício lê o Jaeger: precisa do Collector no caminho",
                         "`make ferramentas` (uma vez) e reinicie o `make local`: ele sobe o Collector, o Jaeger e "
                         "o Prometheus de verdade; ou use o Docker (docker compose up -d)")]
    spans = fonte.spans()
    grupos = compras(spans)
    recente = mais_recente(grupos)
    decisoes = [s for s in recente if s["nome"] == "pagamentos.decidir"]
    agora_ns = time.time_ns()
    admin = [s for s in spans if s["atributos"].get("http.route") == "/admin/falhas"
             and agora_ns - s["inicio_ns"] < JANELA_ADMIN_NS]
    return [
        Criterio(bool(decisoes), "há uma compra recente no Jaeger", "compre um livro (passo 3)"),
        Criterio(bool(decisoes) and all("bookstore.cartao.final" not in s["atributos"] for s in decisoes),
                 "a compra mais recente chegou sem bookstore.cartao.final",
                 "processador attributes/dados_pessoais com delete, no pipeline traces, e reinicie o Collector"),
        Criterio(not admin, "nenhum span de /admin/falhas nos últimos 2 minutos",
                 "processador filter/admin no pipeline traces; e faça o PUT do passo 3 depois de reiniciar"),
    ]
