"""O que o aluno faz no exercício 10: uma compra com 6 s de latência em pagamentos, só ela."""
from pathlib import Path

import requests

from autoteste.consultas import esperar_compra
from autoteste.exercicios import Contexto, carregar

cobranca_incerta = carregar(Path(__file__).parent).cobranca_incerta


def acoes(lab: Contexto) -> str:
    resposta = requests.post(lab.urls["ordens"] + "/ordens", timeout=30,
                             headers={"baggage": "bookstore.falha=pagamentos:latencia_ms=6000"},
                             json={"itens": [{"livro_id": 8, "quantidade": 1}]})
    assert resposta.status_code == 504 and resposta.json()["motivo"] == "pagamentos_timeout", resposta.text
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    """O id que o aluno copia: o do trace mais recente em que o exercício aconteceu."""
    return esperar_compra(lab.fonte, cobranca_incerta)
