"""O que o aluno faz no exercício 08 (a suíte roda isto para provar que o autoteste passa)."""
from pathlib import Path

import requests

from autoteste.consultas import esperar_compra
from autoteste.exercicios import Contexto, carregar

spans_lentos_de_livros = carregar(Path(__file__).parent).spans_lentos_de_livros


def acoes(lab: Contexto) -> str:
    requests.put(lab.urls["livros"] + "/admin/falhas", json={"latencia_ms": 300, "taxa_erro": 0}, timeout=5)
    try:
        assert requests.post(lab.urls["ordens"] + "/ordens", timeout=15,
                             json={"itens": [{"livro_id": 2, "quantidade": 1}]}).status_code == 201
    finally:
        requests.put(lab.urls["livros"] + "/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 0}, timeout=5)
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    """O id que o aluno copia: o do trace mais recente em que o exercício aconteceu."""
    return esperar_compra(lab.fonte, spans_lentos_de_livros)
