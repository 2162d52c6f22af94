"""Respostas de sucesso do contrato que levam `Location`: o recurso criado (201) e a ordem, que
aponta para si mesma com qualquer status (o cliente acompanha em GET /ordens/{id})."""
from flask import jsonify, url_for


def com_location(corpo, codigo_http: int, endpoint: str, **valores):
    """(resposta JSON com `Location: url_for(endpoint, **valores)`, código) — o que uma rota devolve."""
    resposta = jsonify(corpo)
    resposta.headers["Location"] = url_for(endpoint, **valores)
    return resposta, codigo_http
