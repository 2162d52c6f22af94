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


def portas_livres() -> dict:
    from modo_local.postgres import porta_livre
    return {nome: porta_livre() for nome in ("livros", "ordens", "pagamentos")}


@pytest.fixture(scope="session")
def vizinhos(postgres, tmp_path_factory):
    """livros e pagamentos como processos gunicorn reais, para testar ordens
    com o cliente do Flask (sem mocks: as chamadas HTTP são de verdade)."""
    from modo_local.servicos import Laboratorio
    laboratorio = Laboratorio(
        postgres, portas=portas_livres(), prefixo_bancos="vizinhos_",
        pasta_logs=tmp_path_factory.mktemp("logs-vizinhos"),
        ambiente={"WEB_CONCURRENCY": "2", "ADMIN_HABILITADO": "true", "CATALOGO_INICIAL": "false",
                  "OTEL_SDK_DISABLED": "true"},
    )
    with laboratorio.iniciar(servicos=("livros", "pagamentos"), recriar_bancos=True):
        yield laboratorio
