"""Serviço ordens: as ordens de compra e a saga que orquestra a compra."""
from pathlib import Path

from bookstore import aplicacao, cartao, config, openapi as documentacao

from . import openapi, recuperacao, rotas
from .clientes import ClienteLivros, ClientePagamentos
from .orquestrador import SagaPorMensagens
from .saga import Saga


def create_app(test_config: dict | None = None):
    configuracao = {
        **aplicacao.ler_configuracao(
            "LIVROS_TIMEOUT_SEGUNDOS", "PAGAMENTOS_TIMEOUT_SEGUNDOS", "ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS",
            "ORDENS_ABANDONO_SEGUNDOS",
            # Os testes com o cliente do Flask chamam a recuperação à mão.
            "ORDENS_RECUPERACAO_AUTOMATICA", "ORDENS_SAGA"),
        "LIVROS_URL": config.ler("LIVROS_URL") or config.url("livros"),
        "PAGAMENTOS_URL": config.ler("PAGAMENTOS_URL") or config.url("pagamentos"),
    }
    if configuracao["ORDENS_SAGA"] not in ("http", "mensagens"):
        raise config.ConfiguracaoInvalida(f"ORDENS_SAGA={configuracao['ORDENS_SAGA']!r}: use http ou mensagens")
    if configuracao["ORDENS_SAGA"] == "mensagens":  # o cartão atravessa a compra selado (bookstore/cartao.py)
        configuracao["CARTAO_CHAVE_PUBLICA"] = cartao.chave_publica()
    app = aplicacao.criar_app("ordens", Path(__file__).with_name("schema.sql"), configuracao, test_config)
    saga = Saga(
        ClienteLivros("livros", app.config["LIVROS_URL"], app.config["LIVROS_TIMEOUT_SEGUNDOS"]),
        ClientePagamentos("pagamentos", app.config["PAGAMENTOS_URL"], app.config["PAGAMENTOS_TIMEOUT_SEGUNDOS"]),
    )
    # O transporte da compra: a saga síncrona por HTTP, ou a mesma saga por mensagens.
    app.extensions["ordens.saga"] = SagaPorMensagens(saga) if app.config["ORDENS_SAGA"] == "mensagens" else saga
    app.register_blueprint(rotas.bp)
    if app.config["ADMIN_HABILITADO"]:
        app.register_blueprint(rotas.admin)
    if app.config["ORDENS_RECUPERACAO_AUTOMATICA"]:
        aplicacao.em_cada_worker(app, recuperacao.iniciar_em_segundo_plano)
    documentacao.registrar(app, openapi.gerar)
    return app
