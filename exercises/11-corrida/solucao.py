"""O que o aluno faz no exercício 11 (20 compras simultâneas do livro 10) e o trace da vencedora."""
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from autoteste.consultas import compras
from autoteste.exercicios import carregar
from telemetria_local.traces import entrada, status_http

disputas = carregar(Path(__file__).parent).disputas


def acoes(urls: dict, fonte) -> str:
    def comprar(_):
        return requests.post(urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 10, "quantidade": 1}]},
                             timeout=20).status_code

    with ThreadPoolExecutor(20) as executor:
        codigos = sorted(executor.map(comprar, range(20)))
    assert codigos == [201] + [409] * 19, codigos
    fim = time.monotonic() + 15
    while time.monotonic() < fim:
        corrida = disputas(compras(fonte.spans()))
        vencedoras = [t for t, grupo in corrida.items() if status_http(entrada(grupo)) == 201]
        if len(corrida) == 20 and vencedoras:
            return vencedoras[0]
        time.sleep(0.3)
    raise AssertionError("os traces da corrida não chegaram")
