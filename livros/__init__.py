"""Serviço livros: catálogo, estoque e reservas de estoque."""
from pathlib import Path

from bookstore import aplicacao, db, openapi as documentacao

from . import catalogo, openapi, reservas, telemetria

PASTA = Path(__file__).parent


def create_app(test_config: dict | None = None):
    configuracao = aplicacao.ler_configuracao("RESERVA_TTL_SEGUNDOS", "CATALOGO_INICIAL")
    app = aplicacao.criar_app("livros", PASTA / "schema.sql", configuracao, test_config)
    if app.config["CATALOGO_INICIAL"]:
        db.acrescentar_sql(app, PASTA / "catalogo_inicial.sql")
    app.register_blueprint(catalogo.bp)
    app.register_blueprint(reservas.bp)
    telemetria.registrar_medidor_de_estoque(app)
    documentacao.registrar(app, openapi.gerar)
    return app
