"""Persistência das ordens.

Cada função abre e fecha a própria transação: a saga grava um passo, faz a
chamada HTTP e grava o próximo — nunca segura uma transação aberta durante uma
chamada a outro serviço. O histórico de status é gravado por um trigger
(schema.sql), então cada passo é um UPDATE só — um span de SQL só no Jaeger.
"""
import datetime
import logging

from flask import current_app
from opentelemetry import trace

from bookstore import db

from . import telemetria

logger = logging.getLogger(__name__)


def _transicao(ordem_id: int, status: str) -> None:
    """Cada mudança de status: uma linha de log e um evento no span atual."""
    logger.info("ordem %s → %s", ordem_id, status)
    trace.get_current_span().add_event(
        "bookstore.ordem.transicao", {"bookstore.ordem.id": ordem_id, "bookstore.ordem.status": status})

# Status em que a saga ainda não terminou (a recuperação olha para eles).
# O índice parcial `ordens_em_andamento` em schema.sql repete esta lista.
EM_ANDAMENTO = ("criada", "estoque_reservado", "pagamento_aprovado")


def criar(cliente: str | None, itens: list[dict], chave: str | None, corpo_hash: str | None) -> int | None:
    """Grava a ordem como `criada`. Devolve None se a Idempotency-Key já existe."""
    with db.transacao() as cursor:
        linha = cursor.execute(
            "INSERT INTO ordens (status, cliente, idempotency_key, corpo_hash)"
            " VALUES ('criada', %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            (cliente, chave, corpo_hash),
        ).fetchone()
        if linha is None:
            return None
        cursor.executemany(
            "INSERT INTO ordem_itens (ordem_id, livro_id, quantidade) VALUES (%s, %s, %s)",
            [(linha["id"], item["livro_id"], item["quantidade"]) for item in itens],
        )
    _transicao(linha["id"], "criada")
    return linha["id"]


def _atualizar(cursor, ordem_id: int, campos: dict) -> None:
    atribuicoes = ", ".join(f"{coluna} = %s" for coluna in campos)
    cursor.execute(
        f"UPDATE ordens SET {atribuicoes}, atualizada_em = clock_timestamp() WHERE id = %s",
        (*campos.values(), ordem_id),
    )


def mudar_status(ordem_id: int, status: str, **campos) -> None:
    with db.transacao() as cursor:
        _atualizar(cursor, ordem_id, {"status": status, **campos})
    _transicao(ordem_id, status)


def finalizar(ordem_id: int, status: str, **campos) -> bool:
    """Leva a ordem a um status final — só se ela ainda estiver em andamento.

    A condição no UPDATE resolve a corrida entre a saga e a recuperação
    terminando a mesma compensação: só uma das duas grava o desfecho."""
    with db.transacao() as cursor:
        atribuicoes = ", ".join(f"{coluna} = %s" for coluna in campos)
        finalizada = cursor.execute(
            f"UPDATE ordens SET status = %s, {atribuicoes + ',' if campos else ''}"
            "       atualizada_em = clock_timestamp()"
            " WHERE id = %s AND status = ANY(%s)"
            " RETURNING total",
            (status, *campos.values(), ordem_id, list(EM_ANDAMENTO)),
        ).fetchone()
    if finalizada:
        _transicao(ordem_id, status)
        telemetria.ordens.add(1, {"bookstore.ordem.status": status})
        if status == "concluida":
            telemetria.valor.record(float(finalizada["total"]))
    return finalizada is not None


def registrar(ordem_id: int, **campos) -> None:
    """Grava campos sem mudar o status (ex.: o id de um pagamento recusado)."""
    with db.transacao() as cursor:
        _atualizar(cursor, ordem_id, campos)


def registrar_reserva(ordem_id: int, reserva: dict) -> None:
    """Passo 4 concluído: guarda a reserva e os preços que livros cobrou."""
    with db.transacao() as cursor:
        cursor.executemany(
            "UPDATE ordem_itens SET preco_unitario = %s WHERE ordem_id = %s AND livro_id = %s",
            [(item["preco_unitario"], ordem_id, item["livro_id"]) for item in reserva["itens"]],
        )
        # O próximo passo é cobrar: até a resposta chegar, a cobrança é incerta (ver saga.py).
        cursor.execute(
            "UPDATE ordens SET status = 'estoque_reservado', reserva_id = %s, total = %s,"
            "       cobranca_incerta_desde = clock_timestamp(), atualizada_em = clock_timestamp()"
            " WHERE id = %s",
            (reserva["id"], reserva["total"], ordem_id),
        )
    _transicao(ordem_id, "estoque_reservado")


# Uma consulta só traz a ordem com itens e histórico (agregados em JSON pelo
# PostgreSQL): um span de SQL por leitura, e `GET /ordens` sem uma consulta por ordem.
# `cobranca_ainda_pode_chegar`: passado o prazo de abandono, nenhuma cobrança
# atrasada chega mais (o gunicorn de pagamentos mata requisições presas antes disso).
SQL_ORDEM_COMPLETA = """
    SELECT o.id, o.status, o.motivo, o.cliente, o.total, o.reserva_id, o.pagamento_id,
           o.desfazer_para, o.codigo_http, o.corpo_hash,
           o.cobranca_incerta_desde IS NOT NULL AS cobranca_incerta,
           o.cobranca_incerta_desde > clock_timestamp() - make_interval(secs => %(abandono)s)
               AS cobranca_ainda_pode_chegar,
           (SELECT coalesce(json_agg(json_build_object(
                       'livro_id', i.livro_id, 'quantidade', i.quantidade,
                       'preco_unitario', i.preco_unitario) ORDER BY i.livro_id), '[]')
              FROM ordem_itens i WHERE i.ordem_id = o.id) AS itens,
           (SELECT coalesce(json_agg(json_build_object('status', h.status, 'em', h.em) ORDER BY h.id), '[]')
              FROM ordem_historico h WHERE h.ordem_id = o.id) AS historico
      FROM ordens o
"""


def _ordem_completa(linha: dict) -> dict:
    # O JSON do PostgreSQL traz a data como texto; volta a ser datetime, como
    # nas demais colunas (o preço já chega como Decimal, ver bookstore/db.py).
    for evento in linha["historico"]:
        evento["em"] = datetime.datetime.fromisoformat(evento["em"])
    return linha


def _consultar(complemento: str, **parametros) -> list[dict]:
    """SQL_ORDEM_COMPLETA + um WHERE/ORDER BY; devolve as ordens completas."""
    parametros["abandono"] = current_app.config["ORDENS_ABANDONO_SEGUNDOS"]
    with db.transacao() as cursor:
        linhas = cursor.execute(SQL_ORDEM_COMPLETA + complemento, parametros).fetchall()
    return [_ordem_completa(linha) for linha in linhas]


def buscar(ordem_id: int) -> dict | None:
    return next(iter(_consultar(" WHERE o.id = %(id)s", id=ordem_id)), None)


def buscar_por_chave(chave: str) -> dict | None:
    return next(iter(_consultar(" WHERE o.idempotency_key = %(chave)s", chave=chave)), None)


def listar(limite: int, offset: int) -> list[dict]:
    """As mais novas primeiro."""
    return _consultar(" ORDER BY o.id DESC LIMIT %(limite)s OFFSET %(offset)s", limite=limite, offset=offset)


def pendentes(abandono_segundos: float) -> list[int]:
    """Ordens a desfazer: compensação marcada como pendente, ou paradas há tempo
    demais num passo intermediário (o worker que as atendia morreu)."""
    with db.transacao() as cursor:
        return [linha["id"] for linha in cursor.execute(
            "SELECT id FROM ordens"
            " WHERE status = ANY(%s)"
            "   AND (desfazer_para IS NOT NULL"
            "        OR atualizada_em < clock_timestamp() - make_interval(secs => %s))"
            " ORDER BY id",
            (list(EM_ANDAMENTO), abandono_segundos),
        )]


def como_json(ordem: dict) -> dict:
    """A Ordem do contrato (sem os campos internos da saga)."""
    campos = ("id", "status", "motivo", "cliente", "itens", "total", "reserva_id", "pagamento_id", "historico")
    return {campo: ordem[campo] for campo in campos}
