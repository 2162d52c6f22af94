"""PostgreSQL: o esquema criado no arranque e um pool de conexões por processo.

Cada worker do gunicorn cria o seu pool depois do fork (a aplicação não é
pré-carregada no master): conexões abertas antes de um fork seriam
compartilhadas por processos diferentes e corromperiam o protocolo.
"""
import logging
import select
import time
from contextlib import contextmanager
from pathlib import Path

from functools import partial

import psycopg
import psycopg.types.json
import simplejson
from flask import current_app
from opentelemetry.instrumentation.utils import suppress_instrumentation
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

logger = logging.getLogger(__name__)

EXTENSAO = "bookstore.db"

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


def executar_sql_de_arquivo(app, *arquivos_sql: Path) -> None:
    """Roda arquivos .sql idempotentes sob o lock do esquema (esquema, carga inicial)."""
    sql = "\n".join(Path(arquivo).read_text(encoding="utf-8") for arquivo in arquivos_sql)
    aplicar_esquema(app.config["DATABASE_URL"], sql, app.config["DB_ESPERA_SEGUNDOS"])


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
    config = app.config
    executar_sql_de_arquivo(app, *arquivos_sql)
    pool = ConnectionPool(
        config["DATABASE_URL"],
        min_size=1,
        max_size=config["DB_POOL_MAXIMO"],
        # Quanto um pedido espera por uma conexão livre antes de virar 503.
        timeout=config["DB_POOL_ESPERA_SEGUNDOS"],
        kwargs={"row_factory": dict_row, "connect_timeout": 2},
        check=lambda conexao: conferir_conexao(pool, conexao),
        name=app.name,
        open=True,
    )
    app.extensions[EXTENSAO] = pool


def pool_da_app(app=None) -> ConnectionPool:
    return (app or current_app).extensions[EXTENSAO]


@contextmanager
def transacao(app=None):
    """Um cursor dentro de uma transação: commit ao sair, rollback se houver exceção."""
    with pool_da_app(app).connection() as conexao:
        with conexao.cursor() as cursor:
            yield cursor


def fechar(app) -> None:
    pool = app.extensions.pop(EXTENSAO, None)
    if pool is not None:
        pool.close()
