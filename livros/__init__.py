"""Serviço livros: catálogo, estoque e reservas de estoque (porta 8081)."""
from pathlib import Path

from bookstore import aplicacao, config, openapi as documentacao, db

from . import catalogo, openapi, reservas, telemetria

PASTA = Path(__file__).parent


def create_app(test_config: dict | None = None):
    configuracao = {
        "RESERVA_TTL_SEGUNDOS": config.inteiro("RESERVA_TTL_SEGUNDOS", 1800, minimo=1),
        "CATALOGO_INICIAL": config.booleano("CATALOGO_INICIAL", True),
    }
    app = aplicacao.criar_app("livros", PASTA / "schema.sql", configuracao, test_config)
    if app.config["CATALOGO_INICIAL"]:
        db.executar_sql_de_arquivo(app, PASTA / "catalogo_inicial.sql")
    app.register_blueprint(catalogo.bp)
    app.register_blueprint(reservas.bp)
    telemetria.registrar_medidor_de_estoque(app)
    documentacao.registrar(app, openapi.gerar)
    return app
