"""Gravar uma mensagem para o relay publicar: na transação de quem a gera, com o contexto do trace."""
import contextvars
import datetime
import uuid
from functools import partial

import simplejson
from psycopg.types.json import Jsonb

from bookstore import db

from . import rastreio

# A mensagem recebida que está sendo processada nesta thread (consumidor.py): as mensagens gravadas
# durante o processamento são a resposta dela, e uma entrega repetida reenvia exatamente essas.
mensagem_em_processamento: contextvars.ContextVar = contextvars.ContextVar("bookstore.mensagem", default=None)


def _para_json(valor):
    """O que o JSON não tem: datas em ISO 8601 e UUIDs como texto, como nas respostas HTTP."""
    if isinstance(valor, (datetime.date, datetime.datetime)):
        return valor.isoformat()
    if isinstance(valor, uuid.UUID):
        return str(valor)
    raise TypeError(f"{type(valor).__name__} não vai para JSON")


# Dinheiro exato também no JSONB: Decimal vira número, nunca float.
_json = partial(simplejson.dumps, use_decimal=True, default=_para_json)


def enviar(destino: str, corpo: dict, conversa=None) -> uuid.UUID:
    """Grava a mensagem na outbox, dentro da `db.transacao()` aberta por quem chama (ou numa própria):
    ela só existe se o efeito que a gerou também for gravado. Os serviços mandam pelo contrato
    (bookstore/mensagens.py), que confere a routing key e o corpo antes de chegar aqui."""
    mensagem_id = uuid.uuid4()
    with db.transacao() as cursor:
        cursor.execute(
            "INSERT INTO mensagens_a_enviar (id, destino, corpo, contexto, conversa, origem)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (mensagem_id, destino, Jsonb(corpo, dumps=_json), Jsonb(rastreio.contexto_atual()),
             None if conversa is None else str(conversa), mensagem_em_processamento.get()))
    return mensagem_id


def reenviar_respostas(cursor, origem: uuid.UUID) -> int:
    """Uma entrega repetida de `origem` recebe a mesma resposta da primeira: as mesmas mensagens (os
    mesmos ids, que a inbox de quem as recebe reconhece) voltam para a fila do relay."""
    return cursor.execute("UPDATE mensagens_a_enviar SET publicada_em = NULL WHERE origem = %s",
                          (origem,)).rowcount
