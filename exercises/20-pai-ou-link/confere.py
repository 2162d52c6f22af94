"""Autoteste do exercício 20: com MENSAGENS_SO_LINKS=true, cada `process` abre um trace novo ligado ao
`send` por um link — a compra vira uma corrente de traces, e o aluno contou quantos."""
from autoteste.consultas import compras, envios, mais_recente, processamentos
from autoteste.exercicios import Criterio

TIPO = "mensagens"


def corrente(spans: list[dict], inicio: list[dict]) -> list[list[dict]]:
    """Os traces de uma compra, seguindo os links: o da requisição e cada um aberto por um `process`."""
    por_trace: dict[str, list[dict]] = {}
    for span in spans:
        por_trace.setdefault(span["trace_id"], []).append(span)
    vistos, fila = [inicio[0]["trace_id"]], [inicio]
    while fila:
        ids = {s["span_id"] for s in envios(fila.pop())}
        for trace_id, grupo in por_trace.items():
            if trace_id not in vistos and any(link[1] in ids for s in processamentos(grupo) for link in s.get("links", [])):
                vistos.append(trace_id)
                fila.append(grupo)
    return [por_trace[t] for t in vistos]


def conferir(fonte, resposta: str) -> list[Criterio]:
    spans = fonte.spans()
    compra = mais_recente(compras(spans))
    traces = corrente(spans, compra) if compra else []
    so_link = [s for grupo in traces[1:] for s in processamentos(grupo) if not s["parent_id"] and s.get("links")]
    certa = resposta.strip() == str(len(traces)) and len(traces) > 1  # o ✘ não diz o número: diz onde contar
    return [
        Criterio(bool(compra) and bool(envios(compra)), "há uma compra por mensagens (o POST /ordens tem o seu send)",
                 "suba com ORDENS_SAGA=mensagens MENSAGENS_SO_LINKS=true make local e compre (passos 1 e 2)"),
        Criterio(bool(so_link) and not processamentos(compra),
                 "o `process` não é filho do `send`: abre um trace próprio, ligado a ele por um link",
                 "a compra mais recente ainda está num trace só: reinicie com MENSAGENS_SO_LINKS=true e compre de novo"),
        Criterio(certa, f"em quantos traces a compra ficou: {len(traces)}" if certa else
                 f"em quantos traces a compra ficou (você respondeu {resposta or '—'})",
                 "siga os links a partir do trace do POST /ordens (make traces mostra um trace por processamento)"),
    ]
