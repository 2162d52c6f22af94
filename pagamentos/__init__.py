"""Serviço pagamentos: cobranças e estornos (porta 8083)."""
from pathlib import Path

from bookstore import aplicacao, config, openapi as documentacao

from . import openapi, rotas


def create_app(test_config: dict | None = None):
    configuracao = {"PAGAMENTO_LIMITE": config.decimal("PAGAMENTO_LIMITE", "5000.00")}
    app = aplicacao.criar_app("pagamentos", Path(__file__).with_name("schema.sql"), configuracao, test_config)
    app.register_blueprint(rotas.bp)
    documentacao.registrar(app, openapi.gerar)
    return app
