"""Serviço pagamentos: cobranças e estornos."""
from pathlib import Path

from bookstore import aplicacao, openapi as documentacao

from . import openapi, rotas


def create_app(test_config: dict | None = None):
    configuracao = aplicacao.ler_configuracao("PAGAMENTO_LIMITE")
    app = aplicacao.criar_app("pagamentos", Path(__file__).with_name("schema.sql"), configuracao, test_config)
    app.register_blueprint(rotas.bp)
    documentacao.registrar(app, openapi.gerar)
    return app
