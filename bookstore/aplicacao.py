"""A parte comum das fábricas de aplicação (`create_app`) dos três serviços.

Cada serviço chama `criar_app(...)` e registra os próprios blueprints; assim o
que todo serviço tem (JSON com Decimal, erros JSON, banco, /health, /ready,
injeção de falhas e telemetria) é montado do mesmo jeito em todos.
"""
from pathlib import Path

from flask import Flask

from . import config, db, erros, falhas, saude, telemetria, validacao
from .erros import NaoEncontrado
from .json_decimal import ProvedorJSONDecimal

ESQUEMA_FALHAS = Path(__file__).with_name("falhas.sql")


def configuracao_comum(nome: str) -> dict:
    """Variáveis que todo serviço lê (documentadas no README)."""
    return {
        "DATABASE_URL": config.texto("DATABASE_URL", f"postgresql://postgres@127.0.0.1:5432/{nome}"),
        "DB_POOL_MAXIMO": config.inteiro("DB_POOL_MAXIMO", 5, minimo=1),
        "DB_POOL_ESPERA_SEGUNDOS": config.inteiro("DB_POOL_ESPERA_SEGUNDOS", 5, minimo=1),
        "DB_ESPERA_SEGUNDOS": config.inteiro("DB_ESPERA_SEGUNDOS", 30),
        "ADMIN_HABILITADO": config.booleano("ADMIN_HABILITADO", False),
        "FALHA_LATENCIA_MS": config.inteiro("FALHA_LATENCIA_MS", 0),
        "FALHA_TAXA_ERRO": config.decimal("FALHA_TAXA_ERRO", "0"),
    }


def criar_app(nome: str, esquema: Path, configuracao: dict, test_config: dict | None) -> Flask:
    app = Flask(nome)
    app.json = ProvedorJSONDecimal(app)
    # Nenhum corpo do contrato chega perto disso; acima, 413 em JSON (bookstore/erros.py).
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.config.from_mapping(configuracao_comum(nome))
    app.config.from_mapping(configuracao)
    if test_config:
        app.config.from_mapping(test_config)

    # A instrumentação do psycopg precisa vir antes do pool: conexões criadas
    # antes dela não seriam rastreadas.
    telemetria.instrumentar_app(app)
    erros.registrar(app)
    db.init_app(app, esquema, ESQUEMA_FALHAS)
    app.register_blueprint(saude.bp)
    falhas.init_app(app)
    app.url_value_preprocessor(ids_cabem_no_banco)
    return app


def ids_cabem_no_banco(endpoint, valores) -> None:
    """`/livros/99999999999` é um livro que não existe (404), não um erro do
    PostgreSQL (INTEGER vai até 2**31 - 1) virando 500."""
    for nome, valor in (valores or {}).items():
        if isinstance(valor, int) and valor > validacao.MAIOR_INTEIRO:
            raise NaoEncontrado("recurso não encontrado", **{nome: valor})
