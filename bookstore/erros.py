"""Erros da API: sempre JSON `{"erro": "<mensagem em pt-BR>", ...}`, nunca um stack trace."""
import logging

import psycopg
import psycopg_pool
from flask import jsonify
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)

# Mensagens para os erros que o próprio Flask/Werkzeug levanta (rota inexistente etc.).
MENSAGENS_HTTP = {
    400: "requisição inválida: o corpo não é um JSON válido",
    404: "recurso não encontrado",
    405: "método não permitido para este caminho",
    413: "corpo da requisição grande demais",
    415: "tipo de conteúdo não suportado",
}


class ErroAPI(Exception):
    """Erro de negócio ou de entrada que vira uma resposta JSON com o status dado."""

    def __init__(self, status: int, mensagem: str, **extras):
        super().__init__(mensagem)
        self.status = status
        self.mensagem = mensagem
        self.extras = extras

    def corpo(self) -> dict:
        return {"erro": self.mensagem, **self.extras}


class NaoEncontrado(ErroAPI):
    def __init__(self, mensagem: str, **extras):
        super().__init__(404, mensagem, **extras)


class EntradaInvalida(ErroAPI):
    """422: o corpo é JSON, mas viola o esquema; a mensagem nomeia o campo errado."""

    def __init__(self, campo: str, mensagem: str):
        super().__init__(422, f"campo '{campo}': {mensagem}", campo=campo)


def registrar(app) -> None:
    @app.errorhandler(ErroAPI)
    def _erro_api(erro: ErroAPI):
        if "campo" in erro.extras:
            # O campo que o 422 nomeia, também no span de servidor: sem ele o trace de uma compra
            # recusada na validação só mostra um GET 404 e não diz qual item estava errado.
            trace.get_current_span().set_attribute("bookstore.erro.campo", str(erro.extras["campo"]))
        return jsonify(erro.corpo()), erro.status

    @app.errorhandler(HTTPException)
    def _erro_http(erro: HTTPException):
        mensagem = MENSAGENS_HTTP.get(erro.code, erro.name)
        resposta = jsonify({"erro": mensagem})
        if erro.code == 405 and erro.valid_methods:
            resposta.headers["Allow"] = ", ".join(erro.valid_methods)
        return resposta, erro.code

    @app.errorhandler(psycopg.OperationalError)
    @app.errorhandler(psycopg_pool.PoolTimeout)
    def _banco_indisponivel(erro: Exception):
        # O banco caiu ou não responde: 503 claro; a transação já foi desfeita pelo pool.
        logger.error("banco de dados indisponível: %s", erro)
        return jsonify({"erro": "banco de dados indisponível"}), 503

    @app.errorhandler(Exception)
    def _erro_inesperado(erro: Exception):
        # O detalhe vai para o log (e para o span); o cliente recebe só a mensagem.
        logger.exception("erro inesperado ao atender a requisição")
        span = trace.get_current_span()
        span.record_exception(erro)
        span.set_status(Status(StatusCode.ERROR, type(erro).__name__))
        return jsonify({"erro": "erro interno do servidor"}), 500
