"""O que o aluno faz no exercício 05 depois de aplicar o código (solucao.patch): comprar com o cartão recusado."""
import requests


def acoes(urls: dict, fonte) -> str:
    resposta = requests.post(urls["ordens"] + "/ordens", timeout=10, json={
        "itens": [{"livro_id": 6, "quantidade": 1}], "cartao": "4000000000000002"})
    assert resposta.status_code == 402
    return ""
