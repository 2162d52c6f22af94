"""O que o aluno faz no exercício 20: com o laboratório em MENSAGENS_SO_LINKS=true (AMBIENTE), uma compra,
e a conta dos traces em que ela ficou."""
from pathlib import Path

import requests

from autoteste.consultas import compras, esperar, mais_recente
from autoteste.exercicios import Contexto, carregar

corrente = carregar(Path(__file__).parent).corrente
# O interruptor que o passo 1 liga (a suíte sobe o laboratório com ele).
AMBIENTE = {"MENSAGENS_SO_LINKS": "true"}


def acoes(lab: Contexto) -> str:
    feita = requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 3, "quantidade": 1}]},
                          timeout=10)
    assert feita.status_code == 202, feita.text
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    """O que o aluno conta (passo 3): os traces da compra mais recente, seguindo os links — a requisição e
    os seis processamentos, cada um no seu; espera todos chegarem."""
    def inteira():
        spans = lab.fonte.spans()
        compra = mais_recente(compras(spans))
        return len(corrente(spans, compra)) == 7 if compra else False
    esperar(inteira, 20, intervalo=0.3, descricao="os traces da compra chegarem")
    return "7"
