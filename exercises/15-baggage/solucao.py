"""O que o aluno faz no exercício 15 depois de aplicar o código (solucao.patch): comprar pelo app."""
import requests

from autoteste.exercicios import Contexto
from autoteste.solucoes import Alteracao


def acoes(lab: Contexto) -> str:
    assert requests.post(lab.urls["ordens"] + "/ordens", headers={"X-Canal": "app"}, timeout=10,
                         json={"itens": [{"livro_id": 1, "quantidade": 1}]}).status_code == 201
    return ""


# O código da solução: `make solucoes` gera o .patch ao lado a partir daqui.
ALTERACOES = (
    Alteracao("ordens/rotas.py", antes="""\
from flask import Blueprint, current_app, jsonify
""", depois="""\
from flask import Blueprint, current_app, jsonify, request
"""),
    Alteracao("ordens/rotas.py", antes="""\
from opentelemetry import trace
""", depois="""\
from opentelemetry import baggage, context, trace
"""),
    Alteracao("ordens/rotas.py", em="comprar", antes="""\
    resultado = saga.comprar(Pedido(itens, cliente, numero_cartao, chave, corpo_hash))
""", depois="""\
    # O canal de venda viaja no baggage até os outros serviços (exercício 15).
    token = context.attach(baggage.set_baggage("bookstore.canal", request.headers.get("X-Canal", "api")))
    try:
        resultado = saga.comprar(Pedido(itens, cliente, numero_cartao, chave, corpo_hash))
    finally:
        context.detach(token)
"""),
    Alteracao("pagamentos/rotas.py", antes="""\
from opentelemetry import trace
""", depois="""\
from opentelemetry import baggage, trace
"""),
    Alteracao("pagamentos/rotas.py", em="cobrar", antes="""\
    dados = validacao.corpo_json()
""", depois="""\
    canal = baggage.get_baggage("bookstore.canal")  # posto por ordens (exercício 15)
    if canal:
        trace.get_current_span().set_attribute("bookstore.canal", str(canal))
    dados = validacao.corpo_json()
"""),
)
