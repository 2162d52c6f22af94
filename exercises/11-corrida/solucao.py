"""O que o aluno faz no exercício 11 (20 compras simultâneas do livro 10) e o trace da vencedora."""
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from autoteste.consultas import compras, esperar
from autoteste.exercicios import Contexto, carregar
from telemetria_local.traces import entrada, status_http

disputas = carregar(Path(__file__).parent).disputas


def acoes(lab: Contexto) -> str:
    def comprar(_):
        return requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 10, "quantidade": 1}]},
                             timeout=20).status_code

    with ThreadPoolExecutor(20) as executor:
        codigos = sorted(executor.map(comprar, range(20)))
    assert codigos == [201] + [409] * 19, codigos
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    """O id do trace da única 201, depois de os 20 traces da corrida chegarem."""
    def vencedora():
        corrida = disputas(compras(lab.fonte.spans()))
        vencedoras = [t for t, grupo in corrida.items() if status_http(entrada(grupo)) == 201]
        return vencedoras[0] if len(corrida) == 20 and vencedoras else None
    return esperar(vencedora, intervalo=0.3, descricao="os 20 traces da corrida chegarem")
