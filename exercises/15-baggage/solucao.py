"""O que o aluno faz no exercício 15 depois de aplicar o código (solucao.patch): comprar pelo app."""
import requests


def acoes(urls: dict, fonte) -> str:
    assert requests.post(urls["ordens"] + "/ordens", headers={"X-Canal": "app"}, timeout=10,
                         json={"itens": [{"livro_id": 1, "quantidade": 1}]}).status_code == 201
    return ""
