"""O que o aluno faz no exercício 01 (a suíte roda isto para provar que o autoteste passa)."""
import requests

from autoteste.consultas import completa, esperar_compra
from autoteste.exercicios import Contexto


def acoes(lab: Contexto) -> str:
    compra = requests.post(lab.urls["ordens"] + "/ordens", timeout=10,
                           json={"itens": [{"livro_id": 1, "quantidade": 1}], "cliente": "Ana"})
    assert compra.status_code == 201, compra.text
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    return esperar_compra(lab.fonte, completa)[:12]  # o aluno copia o começo do id
