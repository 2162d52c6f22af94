"""O que o aluno faz no exercício 09 (a suíte roda isto para provar que o autoteste passa)."""
from pathlib import Path

import requests

from autoteste.consultas import esperar_compra
from autoteste.exercicios import Contexto, carregar

compensada_por_pagamentos = carregar(Path(__file__).parent).compensada_por_pagamentos


def acoes(lab: Contexto) -> str:
    requests.put(lab.urls["pagamentos"] + "/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 1}, timeout=5)
    try:
        resposta = requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 4, "quantidade": 1}]},
                                 timeout=15)
        assert resposta.status_code == 503 and resposta.json()["motivo"] == "pagamentos_indisponivel"
    finally:
        requests.put(lab.urls["pagamentos"] + "/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 0}, timeout=5)
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    """O id que o aluno copia: o do trace mais recente em que o exercício aconteceu."""
    return esperar_compra(lab.fonte, compensada_por_pagamentos)
