"""O que o aluno faz no exercício 03, com o laboratório no ambiente de solucao.env: duas compras,
e a resposta — um atributo de recurso que só a configuração à mão põe."""
import requests

from autoteste.exercicios import Contexto


def acoes(lab: Contexto) -> str:
    for cartao in ("4111111111111111", "4000000000000002"):
        requests.post(lab.urls["ordens"] + "/ordens", timeout=10,
                      json={"itens": [{"livro_id": 1, "quantidade": 1}], "cartao": cartao})
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    return "service.version"
