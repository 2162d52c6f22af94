"""O que o aluno faz no exercício 21: deixa o consumidor de pagamentos lento, compra em rajada, vê a fila
encher, tira a lentidão e compra de novo com a fila vazia."""
import requests

from autoteste.consultas import compras, esperar, processamentos
from autoteste.exercicios import Contexto

COMPRAS = 8
LATENCIA_MS = 2000  # 8 x 2 s: a fila fica cheia ~16 s, mais que uma exportação de métricas (10 s)
LIVRO = 4  # Vidas Secas, 12 em estoque (livros/catalogo_inicial.sql)


def ultima_espera(lab: Contexto) -> float | None:
    cobrancas = [s for g in compras(lab.fonte.spans()).values() for s in processamentos(g, "pagamentos.cobrar")]
    return max(cobrancas, key=lambda s: s["inicio_ns"])["atributos"]["bookstore.mensagem.espera_ms"] if cobrancas else None


def acoes(lab: Contexto) -> str:
    """Os passos do README: o livro 4 (12 em estoque) cabe nas 8 compras da rajada e na do fim."""
    falhas = lab.urls["pagamentos"] + "/admin/falhas"
    requests.put(falhas, json={"latencia_ms": LATENCIA_MS, "taxa_erro": 0}, timeout=10).raise_for_status()
    try:
        ids = [requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": LIVRO, "quantidade": 1}]},
                             timeout=10).json()["id"] for _ in range(COMPRAS)]

        def terminadas():
            return all(requests.get(f"{lab.urls['ordens']}/ordens/{i}", timeout=5).json()["status"] == "concluida"
                       for i in ids[-1:])
        esperar(terminadas, 60, intervalo=0.5, descricao="a fila de pagamentos andar")
    finally:
        requests.put(falhas, json={"latencia_ms": 0, "taxa_erro": 0}, timeout=10).raise_for_status()
    esperar(lambda: (ultima_espera(lab) or 0) >= 1000, 20, intervalo=0.3, descricao="os spans da fila cheia chegarem")
    requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": LIVRO, "quantidade": 1}]}, timeout=10)
    esperar(lambda: (ultima_espera(lab) or 10**6) < 500, 20, intervalo=0.3, descricao="a cobrança com a fila vazia")
    return ""
