"""Serviço ordens: as ordens de compra e a saga que orquestra a compra (porta 8082)."""
from pathlib import Path

from bookstore import aplicacao, config, openapi as documentacao

from . import openapi, recuperacao, rotas
from .clientes import ClienteLivros, ClientePagamentos
from .saga import Saga


def create_app(test_config: dict | None = None):
    configuracao = {
        "LIVROS_URL": config.texto("LIVROS_URL", "http://127.0.0.1:8081"),
        "PAGAMENTOS_URL": config.texto("PAGAMENTOS_URL", "http://127.0.0.1:8083"),
        "LIVROS_TIMEOUT_SEGUNDOS": config.segundos("LIVROS_TIMEOUT_SEGUNDOS", 5.0),
        "PAGAMENTOS_TIMEOUT_SEGUNDOS": config.segundos("PAGAMENTOS_TIMEOUT_SEGUNDOS", 5.0),
        "ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS": config.segundos("ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS", 10.0),
        "ORDENS_ABANDONO_SEGUNDOS": config.segundos("ORDENS_ABANDONO_SEGUNDOS", 60.0),
        # Os testes com o cliente do Flask chamam a recuperação à mão.
        "ORDENS_RECUPERACAO_AUTOMATICA": config.booleano("ORDENS_RECUPERACAO_AUTOMATICA", True),
    }
    app = aplicacao.criar_app("ordens", Path(__file__).with_name("schema.sql"), configuracao, test_config)
    app.extensions["ordens.saga"] = Saga(
        ClienteLivros("livros", app.config["LIVROS_URL"], app.config["LIVROS_TIMEOUT_SEGUNDOS"]),
        ClientePagamentos("pagamentos", app.config["PAGAMENTOS_URL"], app.config["PAGAMENTOS_TIMEOUT_SEGUNDOS"]),
    )
    app.register_blueprint(rotas.bp)
    if app.config["ADMIN_HABILITADO"]:
        app.register_blueprint(rotas.admin)
    if app.config["ORDENS_RECUPERACAO_AUTOMATICA"]:
        recuperacao.iniciar_em_segundo_plano(app)
    documentacao.registrar(app, openapi.gerar)
    return app
