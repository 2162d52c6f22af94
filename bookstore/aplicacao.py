"""A parte comum das fábricas de aplicação (`create_app`) dos três serviços.

Cada serviço chama `criar_app(...)` e registra os próprios blueprints; assim o
que todo serviço tem (JSON com Decimal, erros JSON, banco, /health, /ready,
injeção de falhas e telemetria) é montado do mesmo jeito em todos.

A fábrica não faz I/O nem inicia threads (como a do tutorial do Flask): o banco é
preparado por `preparar_banco` (gunicorn `on_starting`, `flask init-db`, fixtures), e o
que roda em segundo plano começa em `iniciar_no_worker`, depois do fork, onde o SDK
do OpenTelemetry também nasce (bookstore/gunicorn_comum.py).
"""
import importlib
from pathlib import Path

from flask import Flask

from . import config, db, erros, falhas, origem, saude, telemetria, validacao
from .erros import NaoEncontrado
from .json_decimal import ProvedorJSONDecimal

ESQUEMA_FALHAS = Path(__file__).with_name("falhas.sql")
# A outbox e a inbox da compra por mensagens (bookstore/mensageria), em todo serviço.
ESQUEMA_MENSAGERIA = Path(__file__).with_name("mensageria") / "esquema.sql"
# Tarefas de segundo plano de cada serviço (ex.: a recuperação de ordens), iniciadas por worker.
EM_CADA_WORKER = "bookstore.em_cada_worker"


def ler_configuracao(*nomes: str) -> dict:
    """As variáveis pedidas, lidas pela tabela de bookstore/config.py."""
    return {nome: config.ler(nome) for nome in nomes}


def configuracao_comum(nome: str) -> dict:
    """Variáveis que todo serviço lê."""
    return {
        **ler_configuracao("DB_POOL_MAXIMO", "DB_POOL_ESPERA_SEGUNDOS", "DB_ESPERA_SEGUNDOS", "ADMIN_HABILITADO",
                           "FALHA_LATENCIA_MS", "FALHA_TAXA_ERRO", "GUNICORN_TIMEOUT"),
        "DATABASE_URL": config.ler("DATABASE_URL") or f"postgresql://postgres@127.0.0.1:5432/{nome}",
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
    db.init_app(app, esquema, ESQUEMA_FALHAS, ESQUEMA_MENSAGERIA)
    app.register_blueprint(saude.bp)
    # Antes das falhas injetadas: um PUT /admin/falhas de outra origem nem chega a valer.
    app.before_request(origem.recusar_outra_origem)
    falhas.init_app(app)
    app.url_value_preprocessor(ids_cabem_no_banco)
    app.extensions[EM_CADA_WORKER] = []
    return app


def em_cada_worker(app, tarefa) -> None:
    """Registra `tarefa(app)` para rodar em cada worker, depois do fork (iniciar_no_worker)."""
    app.extensions[EM_CADA_WORKER].append(tarefa)


def iniciar_no_worker(app) -> None:
    """Hook `post_worker_init` do gunicorn: a aplicação já carregada no worker, o SDK já
    configurado (post_fork). Aqui começam as threads de segundo plano de cada serviço."""
    for tarefa in app.extensions[EM_CADA_WORKER]:
        tarefa(app)


def preparar_banco(nome: str) -> None:
    """O passo explícito do banco para o serviço `nome` (hook `on_starting` do gunicorn, no
    master, antes dos workers): o mesmo que `flask --app <nome> init-db`."""
    db.preparar(importlib.import_module(nome).create_app())


def ids_cabem_no_banco(endpoint, valores) -> None:
    """`/livros/99999999999` é um livro que não existe (404), não um erro do
    PostgreSQL (INTEGER vai até 2**31 - 1) virando 500."""
    for nome, valor in (valores or {}).items():
        if isinstance(valor, int) and valor > validacao.MAIOR_INTEIRO:
            raise NaoEncontrado("recurso não encontrado", **{nome: valor})
