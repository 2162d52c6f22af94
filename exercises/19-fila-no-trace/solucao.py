"""O que o aluno faz no exercício 19: uma compra por mensagens, o trace dela e a espera da cobrança."""
import requests

from autoteste.consultas import esperar_compra, processamentos
from autoteste.exercicios import Contexto


def acoes(lab: Contexto) -> str:
    feita = requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 2, "quantidade": 1}]},
                          timeout=10)
    assert feita.status_code == 202, feita.text
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    """O que o aluno lê (passos 2 e 3): o id do trace da compra, quando os 6 `process` chegaram, e o
    `bookstore.mensagem.espera_ms` da cobrança nele."""
    # 6 numa compra sem repetição; uma mensagem entregue de novo (a inbox a reconhece) traz mais um.
    trace_id = esperar_compra(lab.fonte, lambda grupo: processamentos(grupo, "pagamentos.cobrar")
                              and len(processamentos(grupo)) >= 6, 30)
    grupo = [s for s in lab.fonte.spans() if s["trace_id"] == trace_id]
    return f"{trace_id} {processamentos(grupo, 'pagamentos.cobrar')[0]['atributos']['bookstore.mensagem.espera_ms']}"
