"""Fixtures comuns: um PostgreSQL real para a sessão inteira de testes.

Sem POSTGRES_URL, sobe um PostgreSQL 18 embutido (wheel) numa porta livre; com
ela, usa o servidor indicado (precisa poder criar bancos).
"""
import psycopg
import pytest

from modo_local.postgres import servidor_do_ambiente


@pytest.fixture(scope="session")
def postgres():
    with servidor_do_ambiente() as servidor:
        yield servidor


def esvaziar(url: str) -> None:
    """Apaga todas as linhas de todas as tabelas (e reinicia as sequências)."""
    with psycopg.connect(url, autocommit=True) as conexao:
        tabelas = [linha[0] for linha in conexao.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'")]
        if tabelas:
            conexao.execute(f"TRUNCATE {', '.join(tabelas)} RESTART IDENTITY CASCADE")


def criar_app_de_teste(postgres, fabrica, banco: str, **config):
    """A app de um serviço num banco recém-esvaziado (compartilhado pela sessão)."""
    url = postgres.criar_banco(banco)
    app = fabrica({"TESTING": True, "DATABASE_URL": url, "ADMIN_HABILITADO": True, **config})
    esvaziar(url)
    return app


def contar(url: str, sql: str, *params):
    with psycopg.connect(url) as conexao:
        return conexao.execute(sql, params).fetchone()[0]
