"""O que o aluno faz no exercício 02 depois de consertar a propagação (solucao.patch): comprar."""
import requests


def acoes(urls: dict, fonte) -> str:
    resposta = requests.post(urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 1, "quantidade": 1}]},
                             timeout=10)
    assert resposta.status_code == 201, resposta.text
    return ""
