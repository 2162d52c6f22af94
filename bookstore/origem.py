"""Uma página web de outra origem não muda o estado do laboratório.

Um navegador põe `Origin` em todo POST/PUT/DELETE que uma página faz — e um POST "simples"
(`Content-Type: text/plain`) sai sem pedir licença ao servidor (sem preflight de CORS). Sem
esta regra, qualquer página aberta na máquina do aluno poderia comprar, injetar falhas ou estornar
pagamentos nos serviços dele. Quem não manda `Origin` (curl, os serviços entre si, o gerador de
carga) não é afetado; a página `/docs` do próprio serviço manda a origem dele e continua funcionando.
"""
from flask import request

from .erros import ErroAPI

METODOS_QUE_MUDAM_ESTADO = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def recusar_outra_origem() -> None:
    """`before_request`: 403 em JSON se a origem da página não é a do próprio serviço."""
    origem = request.headers.get("Origin")
    if origem is None or request.method not in METODOS_QUE_MUDAM_ESTADO:
        return
    propria = request.host_url.rstrip("/")  # esquema://host:porta de quem foi chamado
    if origem.rstrip("/") != propria:
        raise ErroAPI(403, f"requisição de outra origem recusada: {origem} não é {propria}", origem=origem)
