"""O que o aluno faz no exercício 20: com o laboratório em MENSAGENS_SO_LINKS=true (AMBIENTE), uma compra,
e a conta dos traces em que ela ficou."""
import time
from pathlib import Path

import requests

from autoteste.consultas import compras, envios, esperar, mais_recente, processamentos
from autoteste.exercicios import Contexto, carregar

corrente = carregar(Path(__file__).parent).corrente
# O interruptor que o passo 1 liga (a suíte sobe o laboratório com ele).
AMBIENTE = {"MENSAGENS_SO_LINKS": "true"}


def acoes(lab: Contexto) -> str:
    feita = requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 3, "quantidade": 1}]},
                          timeout=10)
    assert feita.status_code == 202, feita.text
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    """O que o aluno conta (passo 3): os traces da compra mais recente, seguindo os links — a requisição e
    um por processamento (7 numa compra sem repetição). Conta quando a corrente está fechada (todo `send`
    tem o `process` que o liga) e parou de crescer por um segundo (os lotes de 0,2 s dos mensageiros)."""
    vista = {"quantos": 0, "desde": time.monotonic(), "abertos": None}

    def fechada():
        spans = lab.fonte.spans()
        compra = mais_recente(compras(spans))
        traces = corrente(spans, compra) if compra else []
        ligados = {link[1] for grupo in traces for s in processamentos(grupo) for link in s.get("links", [])}
        abertos = [s["nome"] for grupo in traces for s in envios(grupo) if s["span_id"] not in ligados]
        if len(traces) != vista["quantos"] or abertos != vista["abertos"]:
            vista.update(quantos=len(traces), desde=time.monotonic(), abertos=abertos)
        parada = time.monotonic() - vista["desde"] >= 1.0
        return str(len(traces)) if len(traces) > 1 and not abertos and parada else None
    try:
        return esperar(fechada, 30, intervalo=0.3, descricao="a corrente de traces da compra fechar")
    except AssertionError as erro:
        raise AssertionError(f"{erro}: {vista['quantos']} traces, send sem process: {vista['abertos']}") from None
