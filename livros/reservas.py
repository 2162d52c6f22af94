"""Reservas: `POST /reservas`, confirmação, cancelamento e consulta.

As regras de concorrência estão em `estoque.py`; aqui fica só o HTTP.
"""
import uuid

from flask import Blueprint, current_app, jsonify, request
from opentelemetry import trace

from bookstore import db, respostas, validacao
from bookstore.erros import EntradaInvalida, NaoEncontrado

from . import estoque

bp = Blueprint("reservas", __name__, url_prefix="/reservas")


def _reserva_ou_404(cursor, reserva_id: uuid.UUID) -> dict:
    trace.get_current_span().set_attribute("bookstore.reserva.id", str(reserva_id))
    reserva = estoque.buscar_reserva(cursor, reserva_id)
    if reserva is None:
        raise NaoEncontrado("reserva não encontrada", reserva_id=str(reserva_id))
    return reserva


@bp.post("")
def criar():
    dados = validacao.corpo_json()
    itens = validacao.itens_de_compra(dados)
    ordem_id = validacao.inteiro(dados, "ordem_id", minimo=1, obrigatorio=False)
    with db.transacao() as cursor:
        reserva = estoque.reservar(cursor, itens, ordem_id, current_app.config["RESERVA_TTL_SEGUNDOS"])
    trace.get_current_span().set_attribute("bookstore.reserva.id", str(reserva["id"]))
    return respostas.com_location(reserva, 201, "reservas.detalhe", reserva_id=reserva["id"])


@bp.get("")
def listar_da_ordem():
    """`GET /reservas?ordem_id=N`: usado por ordens para desfazer uma reserva cuja
    criação expirou por timeout (a reserva pode existir sem que ordens saiba o id)."""
    ordem_id = request.args.get("ordem_id", "")
    if not (ordem_id.isascii() and ordem_id.isdigit()) or not 1 <= int(ordem_id) <= validacao.MAIOR_INTEIRO:
        raise EntradaInvalida("ordem_id", "informe ?ordem_id= com um inteiro positivo")
    with db.transacao() as cursor:
        ids = cursor.execute(
            "SELECT id FROM reservas WHERE ordem_id = %s ORDER BY criada_em", (int(ordem_id),)
        ).fetchall()
        return jsonify([estoque.buscar_reserva(cursor, linha["id"]) for linha in ids])


@bp.get("/<uuid:reserva_id>")
def detalhe(reserva_id: uuid.UUID):
    with db.transacao() as cursor:
        return jsonify(_reserva_ou_404(cursor, reserva_id))


@bp.post("/<uuid:reserva_id>/confirmacao")
def confirmar(reserva_id: uuid.UUID):
    with db.transacao() as cursor:
        estoque.confirmar(cursor, reserva_id)
        return jsonify(_reserva_ou_404(cursor, reserva_id))


@bp.post("/<uuid:reserva_id>/cancelamento")
def cancelar(reserva_id: uuid.UUID):
    with db.transacao() as cursor:
        estoque.cancelar(cursor, reserva_id)
        return jsonify(_reserva_ou_404(cursor, reserva_id))
