"""Perguntas que vários autotestes fazem à telemetria."""
import time

from telemetria_local import traces

SERVIDOR = 2


def compras(spans: list[dict]) -> dict[str, list[dict]]:
    """trace_id → spans, só dos traces de compra (a raiz é o POST /ordens de ordens)."""
    return {trace_id: grupo for trace_id, grupo in traces.agrupar(spans).items()
            if any(s["servico"] == "ordens" and s["nome"] == "POST /ordens" and s["kind"] == SERVIDOR
                   for s in grupo)}


def completa(grupo: list[dict]) -> bool:
    """A compra atravessou os três serviços e tem SQL (o trace não está pela metade)."""
    return ({s["servico"] for s in grupo} >= {"ordens", "livros", "pagamentos"}
            and any("db.system" in s["atributos"] for s in grupo))


def trace_informado(resposta: str, grupos: dict[str, list[dict]]) -> list[dict] | None:
    """O trace cujo id o aluno informou (aceita o id inteiro ou o começo, com 8+ caracteres)."""
    resposta = resposta.lower().strip().rstrip("…")
    if len(resposta) < 8:
        return None
    achados = [grupo for trace_id, grupo in grupos.items() if trace_id.startswith(resposta)]
    return achados[0] if len(achados) == 1 else None


def tem_metrica(nomes: set[str], nome: str) -> bool:
    """A métrica chegou? `nomes` vem do armazém local (nomes OTel, com ponto) ou do Prometheus
    (com _ e sufixos como _total e _bucket): aceita os dois."""
    return nome in nomes or any(n.startswith(nome.replace(".", "_")) for n in nomes)


def esperar_compra(fonte, condicao, limite_segundos: float = 15) -> str:
    """O id do trace de compra mais recente em que `condicao(spans)` vale, esperando a telemetria
    chegar — como o aluno, que espera o trace aparecer para copiar o id (os `solucao.py`)."""
    fim = time.monotonic() + limite_segundos
    while time.monotonic() < fim:
        achados = [trace_id for trace_id, grupo in compras(fonte.spans()).items() if condicao(grupo)]
        if achados:
            return achados[-1]
        time.sleep(0.3)
    raise AssertionError("o trace da compra não chegou")
