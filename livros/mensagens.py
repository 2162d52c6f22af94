"""Os comandos que livros recebe pela fila (ORDENS_SAGA=mensagens) e as respostas que ele dá.

As regras são as mesmas do HTTP (livros/estoque.py, chamado com o cursor da transação da inbox); só
o transporte muda: em vez do status HTTP, um evento para ordens. Os campos de cada mensagem estão no
contrato (bookstore/mensagens.py):

    livros.reservar  → ordens.estoque_reservado | ordens.estoque_indisponivel
    livros.confirmar → ordens.reserva_confirmada | ordens.reserva_expirada
    livros.cancelar  → ordens.reserva_cancelada | ordens.reserva_ja_confirmada

`cancelar` desfaz a ORDEM, não uma reserva: cancela as reservas ativas dela e deixa a marca em
`ordens_desfeitas`, para que um `reservar` da mesma ordem que chegue depois não reserve nada. O
`reservar` e o `cancelar` de uma ordem se revezam num advisory lock: com dois consumidores, um não
passa pelo meio do outro.
"""
import uuid

from flask import current_app

from bookstore import db, mensagens
from bookstore.erros import ErroAPI
from bookstore.mensageria.consumidor import Tratadores

from . import estoque

# Namespace do advisory lock de duas chaves (namespace, ordem_id) das mensagens de livros.
LOCK_DA_ORDEM = 4_242_101


def _travar_a_ordem(cursor, ordem_id: int) -> bool:
    """Trava a ordem até o commit; devolve se ela já foi desfeita."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_DA_ORDEM, ordem_id))
    return cursor.execute("SELECT 1 FROM ordens_desfeitas WHERE ordem_id = %s", (ordem_id,)).fetchone() is not None


def reservar(corpo: dict) -> None:
    ordem_id = corpo["ordem_id"]
    with db.transacao() as cursor:
        if _travar_a_ordem(cursor, ordem_id):
            return mensagens.enviar("ordens.reserva_cancelada", ordem_id)
        try:
            reserva = estoque.reservar(cursor, corpo["itens"], ordem_id, current_app.config["RESERVA_TTL_SEGUNDOS"])
        except ErroAPI as erro:
            if erro.status == 409:
                return mensagens.enviar("ordens.estoque_indisponivel", ordem_id, **erro.extras)
            # 404: ordens validou o catálogo antes; um livro que sumiu é uma resposta que ele não
            # espera — a mesma `livros_resposta_invalida` da saga HTTP.
            return mensagens.enviar("ordens.falha", ordem_id, motivo="livros_resposta_invalida", comando="livros.reservar")
    mensagens.enviar("ordens.estoque_reservado", ordem_id, reserva=reserva)


def confirmar(corpo: dict) -> None:
    ordem_id = corpo["ordem_id"]
    with db.transacao() as cursor:
        try:
            estoque.confirmar(cursor, uuid.UUID(corpo["reserva_id"]))
        except ErroAPI as erro:
            if erro.status == 410:
                return mensagens.enviar("ordens.reserva_expirada", ordem_id)
            return mensagens.enviar("ordens.falha", ordem_id, motivo="livros_resposta_invalida", comando="livros.confirmar")
    mensagens.enviar("ordens.reserva_confirmada", ordem_id)


def cancelar(corpo: dict) -> None:
    ordem_id = corpo["ordem_id"]
    with db.transacao() as cursor:
        _travar_a_ordem(cursor, ordem_id)
        cursor.execute("INSERT INTO ordens_desfeitas (ordem_id) VALUES (%s) ON CONFLICT DO NOTHING", (ordem_id,))
        reservas = cursor.execute("SELECT id, status FROM reservas WHERE ordem_id = %s", (ordem_id,)).fetchall()
        if any(reserva["status"] == "confirmada" for reserva in reservas):
            # A venda aconteceu (a confirmação chegou antes do desfazer): nada a devolver.
            return mensagens.enviar("ordens.reserva_ja_confirmada", ordem_id)
        for reserva in reservas:
            if reserva["status"] == "ativa":
                estoque.cancelar(cursor, reserva["id"])
    mensagens.enviar("ordens.reserva_cancelada", ordem_id)


def tratadores(_app) -> Tratadores:
    return mensagens.tratadores("livros", {"livros.reservar": reservar, "livros.confirmar": confirmar,
                                           "livros.cancelar": cancelar})
