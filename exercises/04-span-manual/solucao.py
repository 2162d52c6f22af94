"""O que o aluno faz no exercício 04 depois de aplicar o código (solucao.patch): comprar."""
import requests


def acoes(urls: dict, fonte) -> str:
    itens = [{"livro_id": 1, "quantidade": 1}, {"livro_id": 4, "quantidade": 1}]
    assert requests.post(urls["ordens"] + "/ordens", json={"itens": itens}, timeout=10).status_code == 201
    return ""
