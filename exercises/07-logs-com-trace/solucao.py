"""O que o aluno faz no exercício 07: compra e tira o trace_id de uma linha de log da compra."""
import requests

from autoteste.consultas import esperar
from autoteste.exercicios import Contexto


def acoes(lab: Contexto) -> str:
    ordem = requests.post(lab.urls["ordens"] + "/ordens", timeout=10,
                          json={"itens": [{"livro_id": 5, "quantidade": 1}], "cliente": "Bia"}).json()["id"]

    def trace_do_log():  # a linha "ordem N → concluida", como no terminal
        return next((registro["trace_id"] for registro in lab.fonte.logs()
                     if registro["corpo"] == f"ordem {ordem} → concluida"), None)
    return esperar(trace_do_log, intervalo=0.3, descricao="o log da compra chegar")
