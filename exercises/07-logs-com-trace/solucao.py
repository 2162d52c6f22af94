"""O que o aluno faz no exercício 07: compra e tira o trace_id de uma linha de log da compra."""
import requests

from autoteste.consultas import esperar
from autoteste.exercicios import Contexto


def acoes(lab: Contexto) -> str:
    ordem = requests.post(lab.urls["ordens"] + "/ordens", timeout=10,
                          json={"itens": [{"livro_id": 5, "quantidade": 1}], "cliente": "Bia"}).json()["id"]

    return resposta(lab, f"ordem {ordem} → concluida")


def resposta(lab: Contexto, linha: str | None = None) -> str:
    """O trace_id da linha "ordem N → concluida" (a da compra, ou a mais recente), como no terminal."""
    def trace_do_log():
        achados = [registro["trace_id"] for registro in lab.fonte.logs()
                   if registro["corpo"] == linha or (linha is None and registro["corpo"].endswith(" → concluida"))]
        return achados[-1] if achados else None
    return esperar(trace_do_log, intervalo=0.3, descricao="o log da compra chegar")
