"""PostgreSQL: o esquema, aplicado num passo explícito, e um pool de conexões por processo.

O esquema (e a carga inicial) não é aplicado pela fábrica: `create_app` só monta a
aplicação, sem tocar no banco. Quem aplica é `preparar(app)`, chamado pelo comando
`flask --app <serviço> init-db`, pelo hook `on_starting` do gunicorn (no master, antes
dos workers) e pelas fixtures dos testes — como o `init-db` do tutorial do Flask.

O pool é criado fechado e abre na primeira conexão pedida: em cada worker do gunicorn,
depois do fork (conexões abertas antes de um fork seriam compartilhadas por processos
diferentes e corromperiam o protocolo).
"""
import contextvars
import logging
import select
import threading
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import click

import psycopg
import psycopg.types.json
import simplejson
from flask import current_app
from flask.cli import with_appcontext
from opentelemetry.instrumentation.utils import suppress_instrumentation
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)

EXTENSAO = "bookstore.db"
ARQUIVOS_SQL = "bookstore.db.arquivos_sql"
_abrindo = threading.Lock()

# Chave do advisory lock que serializa a criação do esquema. Vários workers e
# réplicas arrancam juntos; sem ele, dois `CREATE TABLE IF NOT EXISTS`
# simultâneos podem colidir no catálogo do PostgreSQL (erro de chave duplicada).
CHAVE_LOCK_ESQUEMA = 4_242_001

# Colunas json que o PostgreSQL monta (itens agregados com json_agg) trazem
# preços: lidos como Decimal, como as colunas NUMERIC, nunca como float.
psycopg.types.json.set_json_loads(partial(simplejson.loads, use_decimal=True))


def aplicar_esquema(url: str, sql: str, espera_segundos: int) -> None:
    """Executa o SQL idempotente do esquema, esperando o banco ficar no ar."""
    limite = time.monotonic() + espera_segundos
    while True:
        try:
            # O esquema roda no arranque, fora de qualquer requisição: sem spans soltos.
            with suppress_instrumentation(), psycopg.connect(url, connect_timeout=2) as conexao:
                with conexao.transaction():
                    conexao.execute("SELECT pg_advisory_xact_lock(%s)", (CHAVE_LOCK_ESQUEMA,))
                    conexao.execute(sql)
            return
        except psycopg.OperationalError as erro:
            if time.monotonic() >= limite:
                raise
            logger.warning("banco ainda não responde (%s); tentando de novo", erro)
            time.sleep(0.5)


def preparar(app) -> None:
    """Aplica os arquivos .sql idempotentes do serviço (esquema, carga inicial) sob o lock
    do esquema: vários workers e réplicas podem chamar isto ao mesmo tempo."""
    sql = "\n".join(Path(arquivo).read_text(encoding="utf-8") for arquivo in app.extensions[ARQUIVOS_SQL])
    aplicar_esquema(app.config["DATABASE_URL"], sql, app.config["DB_ESPERA_SEGUNDOS"])


@click.command("init-db")
@with_appcontext
def comando_init_db() -> None:
    """Cria as tabelas do serviço (e a carga inicial) se ainda não existem."""
    preparar(current_app)
    click.echo(f"banco de {current_app.name} pronto")


def conferir_conexao(pool: ConnectionPool, conexao) -> None:
    """O `check` do pool: roda antes de cada empréstimo de conexão.

    Depois de um restart do PostgreSQL ou de um pg_terminate_backend, o pool
    guardava conexões mortas e as entregava: a requisição virava 503 à toa.
    Uma conexão ociosa não tem o que ler; se o socket tem algo, o servidor falou
    sozinho (o aviso de "terminating connection" ou o fim da conexão). Só então
    vale a ida e volta da conferência do psycopg-pool — que não custa nada no
    caminho comum e, sem span, não polui o trace. Se esta morreu, as outras
    ociosas deste worker quase certamente também: `pool.check()` troca todas de
    uma vez, em vez de cada requisição esbarrar numa (e o pool esperar ~1 s entre
    tentativas)."""
    if not select.select([conexao.fileno()], [], [], 0)[0]:
        return
    with suppress_instrumentation():
        try:
            ConnectionPool.check_connection(conexao)
        except psycopg.Error:
            logger.warning("conexão com o banco caiu; trocando as conexões ociosas do pool")
            pool.check()
            raise


def init_app(app, *arquivos_sql: Path) -> None:
    """Registra o pool (fechado: abre na primeira conexão) e o `init-db`; não toca no banco."""
    config = app.config
    app.extensions[ARQUIVOS_SQL] = list(arquivos_sql)
    pool = ConnectionPool(
        config["DATABASE_URL"],
        min_size=1,
        max_size=config["DB_POOL_MAXIMO"],
        # Quanto um pedido espera por uma conexão livre antes de virar 503.
        timeout=config["DB_POOL_ESPERA_SEGUNDOS"],
        kwargs={"row_factory": dict_row, "connect_timeout": 2},
        check=lambda conexao: conferir_conexao(pool, conexao),
        name=app.name,
        open=False,
    )
    app.extensions[EXTENSAO] = pool
    app.cli.add_command(comando_init_db)


def acrescentar_sql(app, arquivo: Path) -> None:
    """Mais um arquivo para o `preparar` (ex.: o catálogo inicial de livros)."""
    app.extensions[ARQUIVOS_SQL].append(arquivo)


def pool_da_app(app=None) -> ConnectionPool:
    pool = (app or current_app).extensions[EXTENSAO]
    if pool.closed:
        with _abrindo:  # a thread de recuperação e a requisição podem pedir juntas
            if pool.closed:
                pool.open()
    return pool


# A transação aberta por `transacao()` nesta thread, se houver (ver abaixo).
_transacao_atual: contextvars.ContextVar = contextvars.ContextVar("bookstore.db.transacao", default=None)


@contextmanager
def transacao(app=None):
    """Um cursor dentro de uma transação: commit ao sair, rollback se houver exceção.

    Dentro de outra `transacao()` da mesma thread, devolve o cursor dela: tudo vai no commit de fora.
    É o que um consumidor de mensagens precisa (bookstore/mensageria): a mensagem recebida (inbox), o
    efeito dela — escrito pelas mesmas funções de repositório que a saga HTTP usa, cada uma com a
    sua `transacao()` — e a resposta a enviar (outbox) num commit só, ou nada."""
    de_fora = _transacao_atual.get()
    if de_fora is not None:
        yield de_fora
        return
    with pool_da_app(app).connection() as conexao:
        with conexao.cursor() as cursor:
            marca = _transacao_atual.set(cursor)
            try:
                yield cursor
            finally:
                _transacao_atual.reset(marca)


def fechar(app) -> None:
    pool = app.extensions.pop(EXTENSAO, None)
    if pool is not None:
        pool.close()
