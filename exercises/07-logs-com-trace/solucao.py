"""O que o aluno faz no exercício 07: compra e tira o trace_id de uma linha de log da compra."""
import time

import requests


def acoes(urls: dict, fonte) -> str:
    ordem = requests.post(urls["ordens"] + "/ordens", timeout=10,
                          json={"itens": [{"livro_id": 5, "quantidade": 1}], "cliente": "Bia"}).json()["id"]
    fim = time.monotonic() + 15
    while time.monotonic() < fim:  # a linha "ordem N → concluida", como no terminal
        for registro in fonte.logs():
            if registro["corpo"] == f"ordem {ordem} → concluida":
                return registro["trace_id"]
        time.sleep(0.3)
    raise AssertionError("o log da compra não chegou")
