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

from . import regras, telemetria

logger = logging.getLogger(__name__)


def _transicao(ordem_id: int, status: str) -> None:
    """Cada mudança de status: uma linha de log e um evento no span atual."""
    logger.info("ordem %s → %s", ordem_id, status)
    trace.get_current_span().add_event(
        "bookstore.ordem.transicao", {"bookstore.ordem.id": ordem_id, "bookstore.ordem.status": status})

# Status em que a saga ainda não terminou (a recuperação olha para eles).
# O índice parcial `ordens_em_andamento` em schema.sql repete esta lista.
EPOCA = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
EM_ANDAMENTO = ("criada", "estoque_reservado", "pagamento_aprovado")


def criar(cliente: str | None, itens: list[dict], chave: str | None, corpo_hash: str | None) -> dict | None:
    """Grava a ordem como `criada`, com os itens, num comando só (a ordem e os itens
    no mesmo INSERT com CTE: um span de SQL a menos por compra). Devolve {id, criada_em},
    ou None se a Idempotency-Key já existe — aí nenhum item é gravado."""
    with db.transacao() as cursor:
        linha = cursor.execute(
            "WITH ordem AS ("
            "   INSERT INTO ordens (status, cliente, idempotency_key, corpo_hash)"
            "   VALUES ('criada', %s, %s, %s) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, criada_em),"
            " itens AS ("
            "   INSERT INTO ordem_itens (ordem_id, livro_id, quantidade)"
            "   SELECT ordem.id, item.livro_id, item.quantidade"
            "     FROM ordem, unnest(%s::integer[], %s::integer[]) AS item (livro_id, quantidade))"
            " SELECT id, criada_em FROM ordem",
            (cliente, chave, corpo_hash, [item["livro_id"] for item in itens], [item["quantidade"] for item in itens]),
        ).fetchone()
    if linha is None:
        return None
    _transicao(linha["id"], "criada")
    return linha


def chave_de_pagamento(ordem: dict) -> str:
    """A Idempotency-Key com que a saga cobra esta ordem em pagamentos, sempre a mesma para ela:
    repetir a cobrança (ao desfazer, na recuperação) devolve o mesmo pagamento, e um pagamento
    feito por fora para o mesmo ordem_id — ou de um banco de ordens anterior — nunca é tomado
    por este. O instante de criação em microssegundos (inteiro: não depende do fuso da sessão)."""
    microssegundos = (ordem["criada_em"] - EPOCA) // datetime.timedelta(microseconds=1)
    return f"ordens/{ordem['id']}/{microssegundos}"


# Toda escrita numa ordem é um compare-and-set: o UPDATE só pega a linha se ela
# ainda estiver em andamento, e o PostgreSQL reavalia essa condição depois de
# obter o lock da linha. Uma ordem que terminou (concluida, falhou...) é
# imutável: nem a saga atrasada nem a recuperação conseguem reescrevê-la.
def _atualizar_em_andamento(cursor, ordem_id: int, campos: dict, condicao: str = "", *parametros,
                            carimbar: tuple = ()) -> dict | None:
    """UPDATE condicional; devolve {id, total} da ordem, ou None se ela não estava em
    andamento (ou a `condicao` extra não valeu). `carimbar`: colunas que recebem o
    relógio do banco, como `atualizada_em`."""
    atribuicoes = ", ".join([*(f"{coluna} = %s" for coluna in campos),
                             *(f"{coluna} = clock_timestamp()" for coluna in ("atualizada_em", *carimbar))])
    return cursor.execute(
        f"UPDATE ordens SET {atribuicoes} WHERE id = %s AND status = ANY(%s){condicao} RETURNING id, total",
        (*campos.values(), ordem_id, list(EM_ANDAMENTO), *parametros),
    ).fetchone()


def mudar_status(ordem_id: int, status: str, **campos) -> bool:
    """Um passo adiante na saga — só se ninguém decidiu desfazer a ordem."""
    with db.transacao() as cursor:
        mudou = _atualizar_em_andamento(cursor, ordem_id, {"status": status, **campos},
                                        " AND desfazer_para IS NULL") is not None
    if mudou:
        _transicao(ordem_id, status)
    return mudou


def finalizar(ordem_id: int, desfecho: regras.Desfecho, **campos) -> bool:
    """Leva a ordem ao status final do desfecho — só se ela ainda estiver em andamento.

    A condição resolve a corrida entre a saga e a recuperação terminando a
    mesma compensação: só uma das duas grava o desfecho. Uma ordem final não
    guarda compensação pendente (`desfazer_para` volta a nulo)."""
    with db.transacao() as cursor:
        finalizada = _atualizar_em_andamento(
            cursor, ordem_id, {"status": desfecho.status, "motivo": desfecho.motivo, "codigo_http": desfecho.codigo_http,
                               "desfazer_para": None, **campos})
    if finalizada:
        _transicao(ordem_id, desfecho.status)
        telemetria.ordens.add(1, {"bookstore.ordem.status": desfecho.status})
        if desfecho == regras.CONCLUIDA:
            telemetria.valor.record(float(finalizada["total"]))
    return finalizada is not None


def registrar(ordem_id: int, **campos) -> bool:
    """Grava campos sem mudar o status (ex.: a cobrança deixou de ser incerta)."""
    with db.transacao() as cursor:
        return _atualizar_em_andamento(cursor, ordem_id, campos) is not None


def _decisao(desfecho: regras.Desfecho) -> dict:
    return {"desfazer_para": desfecho.status, "motivo": desfecho.motivo, "codigo_http": desfecho.codigo_http}


def decidir_desfazer(ordem_id: int, desfecho: regras.Desfecho, **campos) -> bool:
    """Grava a decisão de desfazer (a saga soube o que deu errado).

    Só se a ordem está em andamento e ninguém decidiu antes — com uma exceção:
    a decisão da recuperação (regras.INTERROMPIDA, "o worker sumiu") cede à da saga,
    que sabe o que a dependência respondeu. O desfazer é o mesmo nos dois casos."""
    with db.transacao() as cursor:
        return _atualizar_em_andamento(
            cursor, ordem_id, {**_decisao(desfecho), **campos},
            " AND (desfazer_para IS NULL OR motivo = %s)", regras.INTERROMPIDA.motivo) is not None


def decidir_desfazer_abandonada(ordem_id: int, abandono_segundos: float) -> bool:
    """A recuperação marca para desfazer uma ordem parada há tempo demais — se ela
    continua parada no instante do lock (a saga pode ter andado ou terminado)."""
    with db.transacao() as cursor:
        return _atualizar_em_andamento(
            cursor, ordem_id, _decisao(regras.INTERROMPIDA),
            " AND desfazer_para IS NULL AND atualizada_em < clock_timestamp() - make_interval(secs => %s)",
            abandono_segundos) is not None


def registrar_reserva(ordem_id: int, reserva: dict) -> bool:
    """Passo 4 concluído: guarda a reserva e os preços que livros cobrou, num comando
    só — e só se a ordem segue em andamento e ninguém decidiu desfazê-la (os preços
    dos itens só mudam se a ordem mudou)."""
    with db.transacao() as cursor:
        # O próximo passo é cobrar: até a resposta chegar, a cobrança é incerta (ver saga.py).
        mudou = cursor.execute(
            "WITH ordem AS ("
            "   UPDATE ordens SET status = 'estoque_reservado', reserva_id = %s, total = %s,"
            "          cobranca_incerta_desde = clock_timestamp(), atualizada_em = clock_timestamp()"
            "    WHERE id = %s AND status = ANY(%s) AND desfazer_para IS NULL RETURNING id),"
            " precos AS ("
            "   UPDATE ordem_itens i SET preco_unitario = p.preco"
            "     FROM ordem, unnest(%s::integer[], %s::numeric[]) AS p (livro_id, preco)"
            "    WHERE i.ordem_id = ordem.id AND i.livro_id = p.livro_id)"
            " SELECT id FROM ordem",
            (reserva["id"], reserva["total"], ordem_id, list(EM_ANDAMENTO),
             [item["livro_id"] for item in reserva["itens"]], [item["preco_unitario"] for item in reserva["itens"]]),
        ).fetchone() is not None
    if mudou:
        _transicao(ordem_id, "estoque_reservado")
    return mudou


# --- só da compra por mensagens (orquestrador.py) -------------------------------------------------
# O cartão espera selado numa tabela à parte entre o POST /ordens e o comando de cobrar (a requisição
# já respondeu 202), e sai dela assim que é usado ou que a ordem termina.
def guardar_cartao(ordem_id: int, selado: str) -> None:
    with db.transacao() as cursor:
        cursor.execute("INSERT INTO cartoes_selados (ordem_id, selado) VALUES (%s, %s)", (ordem_id, selado))


def tirar_cartao(ordem_id: int) -> str | None:
    with db.transacao() as cursor:
        linha = cursor.execute("DELETE FROM cartoes_selados WHERE ordem_id = %s RETURNING selado",
                               (ordem_id,)).fetchone()
    return linha["selado"] if linha else None


def passos_desfeitos(ordem_id: int) -> set[str]:
    """Os passos do desfazer (regras.CANCELAR_RESERVA, regras.ESTORNAR) cuja resposta já chegou."""
    with db.transacao() as cursor:
        linha = cursor.execute("SELECT desfeito_em_livros, desfeito_em_pagamentos FROM ordens WHERE id = %s",
                               (ordem_id,)).fetchone()
    if linha is None:
        return set()
    return ({regras.CANCELAR_RESERVA} if linha["desfeito_em_livros"] else set()) | (
        {regras.ESTORNAR} if linha["desfeito_em_pagamentos"] else set())


def marcar_desfeito(ordem_id: int, passo: str) -> bool:
    """A resposta de um passo do desfazer chegou. False se a ordem não está mais em andamento."""
    coluna = {regras.CANCELAR_RESERVA: "desfeito_em_livros", regras.ESTORNAR: "desfeito_em_pagamentos"}[passo]
    return registrar(ordem_id, **{coluna: True})


def marcar_desfazer_enviado(ordem_id: int) -> None:
    """Um comando de desfazer saiu agora (pela outbox, na mesma transação)."""
    with db.transacao() as cursor:
        _atualizar_em_andamento(cursor, ordem_id, {}, carimbar=("desfazer_enviado_em",))


def desfazer_parado(ordem_id: int, abandono_segundos: float) -> bool:
    """O passo do desfazer nunca saiu, ou saiu há mais de `abandono_segundos` sem resposta (a mensagem
    foi para a fila de mortas, o serviço ficou fora)."""
    with db.transacao() as cursor:
        linha = cursor.execute(
            "SELECT desfazer_enviado_em IS NULL"
            "    OR desfazer_enviado_em < clock_timestamp() - make_interval(secs => %s) AS parado"
            "  FROM ordens WHERE id = %s", (abandono_segundos, ordem_id)).fetchone()
    return bool(linha and linha["parado"])


# Uma consulta só traz a ordem com itens e histórico (agregados em JSON pelo
# PostgreSQL): um span de SQL por leitura, e `GET /ordens` sem uma consulta por ordem.
# `cobranca_ainda_pode_chegar`: passado o prazo de abandono, nenhuma cobrança
# atrasada chega mais (o gunicorn de pagamentos mata requisições presas antes disso).
SQL_ORDEM_COMPLETA = """
    SELECT o.id, o.status, o.motivo, o.cliente, o.total, o.reserva_id, o.pagamento_id,
           o.desfazer_para, o.codigo_http, o.corpo_hash, o.criada_em,
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


# Uma passada de recuperação por vez, em qualquer worker ou réplica: um advisory lock da sessão,
# na conexão que a passada segura do começo ao fim (recuperacao.py).
CHAVE_LOCK_RECUPERACAO = 4_242_002


def travar_a_recuperacao(conexao) -> bool:
    linha = conexao.execute("SELECT pg_try_advisory_lock(%s) AS obtido", (CHAVE_LOCK_RECUPERACAO,)).fetchone()
    return linha["obtido"]


def destravar_a_recuperacao(conexao) -> None:
    conexao.execute("SELECT pg_advisory_unlock(%s)", (CHAVE_LOCK_RECUPERACAO,))


def como_json(ordem: dict) -> dict:
    """A Ordem do contrato (sem os campos internos da saga)."""
    campos = ("id", "status", "motivo", "cliente", "itens", "total", "reserva_id", "pagamento_id", "historico")
    return {campo: ordem[campo] for campo in campos}
