"""`/health` (o processo está de pé, sem I/O) e `/ready` (o banco responde).

Nenhum dos dois gera spans: o Docker e os alunos os chamam o tempo todo e eles
só poluiriam o Jaeger (ver `bookstore/telemetria.py`, URLs excluídas).
"""
import logging

from flask import Blueprint, jsonify
from opentelemetry.instrumentation.utils import suppress_instrumentation

from . import db

logger = logging.getLogger(__name__)
bp = Blueprint("saude", __name__)


@bp.get("/health")
def health():
    return jsonify({"status": "ok"})


@bp.get("/ready")
def ready():
    try:
        # Sem span nem do SELECT 1: o Docker chama /ready a cada poucos segundos.
        with suppress_instrumentation(), db.pool_da_app().connection(timeout=2) as conexao:
            conexao.execute("SELECT 1")
    except Exception as erro:  # qualquer falha aqui significa "não pronto"
        logger.warning("não pronto: banco não responde (%s)", erro)
        return jsonify({"status": "indisponivel", "erro": "banco de dados não responde"}), 503
    return jsonify({"status": "pronto"})
