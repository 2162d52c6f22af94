"""O que o aluno faz no exercício 12 depois de trocar o amostrador (solucao.patch): 40 compras."""
from concurrent.futures import ThreadPoolExecutor

import requests


def acoes(urls: dict, fonte) -> str:
    livro = requests.post(urls["livros"] + "/livros", timeout=10,
                          json={"titulo": "Livro da amostragem", "preco": 10, "estoque": 100}).json()["id"]

    def comprar(_):
        return requests.post(urls["ordens"] + "/ordens", json={"itens": [{"livro_id": livro, "quantidade": 1}]},
                             timeout=10).status_code

    with ThreadPoolExecutor(4) as executor:
        assert set(executor.map(comprar, range(40))) == {201}
    return ""
