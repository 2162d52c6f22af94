"""Os comandos que pagamentos recebe pela fila (ORDENS_SAGA=mensagens) e as respostas que ele dá.

As regras são as do POST /pagamentos: a decisão em aprovacao.py, um pagamento por ordem e a chave da
saga (cobranca.py). Só o transporte muda. Os campos de cada mensagem estão no contrato
(bookstore/mensagens.py):

    pagamentos.cobrar   → ordens.pagamento | ordens.pagamento_conflitante | ordens.cobranca_cancelada
    pagamentos.estornar → ordens.estorno_concluido

`estornar` desfaz a cobrança DA ORDEM (a da chave da saga), exista ela ou não: estorna o que foi
aprovado e deixa a marca em `cobrancas_desfeitas`. Sem a marca, um `cobrar` atrasado (na fila atrás
do estorno, ou num segundo consumidor) cobraria uma compra já desfeita. Os dois se revezam num
advisory lock por ordem.
"""
from decimal import Decimal

from flask import current_app
from opentelemetry import trace

from bookstore import cartao, db, mensagens
from bookstore.mensageria.consumidor import Tratadores

from . import aprovacao, cobranca

tracer = trace.get_tracer("pagamentos")
LOCK_DA_ORDEM = 4_242_103


def _travar_a_ordem(cursor, ordem_id: int, chave: str) -> bool:
    """Trava a cobrança da ordem até o commit; devolve se ela já foi desfeita."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_DA_ORDEM, ordem_id))
    return cursor.execute("SELECT 1 FROM cobrancas_desfeitas WHERE ordem_id = %s AND chave = %s",
                          (ordem_id, chave)).fetchone() is not None


def _decidir(ordem_id: int, valor: Decimal, final: str) -> tuple[str, str | None]:
    """A decisão (aprovacao.py) no mesmo span `pagamentos.decidir` do POST /pagamentos."""
    with tracer.start_as_current_span("pagamentos.decidir") as span:
        status, motivo = aprovacao.decidir(final, valor, current_app.config["PAGAMENTO_LIMITE"])
        span.set_attributes({"bookstore.ordem.id": ordem_id, "bookstore.pagamento.valor": float(valor),
                             "bookstore.cartao.final": final, "bookstore.pagamento.status": status,
                             "bookstore.pagamento.motivo": motivo or ""})
    return status, motivo


def cobrar(corpo: dict) -> None:
    ordem_id, chave, valor = corpo["ordem_id"], corpo["chave"], Decimal(corpo["valor"])
    with db.transacao() as cursor:
        if _travar_a_ordem(cursor, ordem_id, chave):
            return mensagens.enviar("ordens.cobranca_cancelada", ordem_id)
        try:
            # Aberto só aqui, na memória: daqui em diante, só o final.
            final = cartao.final(cartao.abrir(corpo["cartao_selado"], current_app.config["CARTAO_CHAVE_PRIVADA"]))
        except (KeyError, TypeError, cartao.SeloInvalido):
            # O relay apaga o cartão depois de publicar; uma cobrança sem ele é uma repetição que a
            # inbox não reconheceu (outro message_id) — não há o que cobrar. Um selo que não abre
            # (outra chave) também não.
            return mensagens.enviar("ordens.falha", ordem_id, motivo="pagamentos_resposta_invalida",
                                    comando="pagamentos.cobrar")
        status, motivo = _decidir(ordem_id, valor, final)
        novo, existente = cobranca.gravar(cursor, ordem_id, valor, status, motivo, final, chave)
        if novo is None and (existente.pop("chave") != chave or existente["valor"] != valor):
            # O ordem_id já tem um pagamento feito por fora da saga (o 409 do POST /pagamentos).
            return mensagens.enviar("ordens.pagamento_conflitante", ordem_id)
    mensagens.enviar("ordens.pagamento", ordem_id, pagamento=novo or existente)


def estornar(corpo: dict) -> None:
    ordem_id, chave = corpo["ordem_id"], corpo["chave"]
    with db.transacao() as cursor:
        _travar_a_ordem(cursor, ordem_id, chave)
        cursor.execute("INSERT INTO cobrancas_desfeitas (ordem_id, chave) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                       (ordem_id, chave))
        pagamentos = cursor.execute(f"SELECT {cobranca.COLUNAS} FROM pagamentos WHERE ordem_id = %s AND chave = %s",
                                    (ordem_id, chave)).fetchall()
        for pagamento in pagamentos:
            if cobranca.estornar(cursor, pagamento["id"]):
                pagamento["status"] = "estornado"
    mensagens.enviar("ordens.estorno_concluido", ordem_id, pagamentos=pagamentos)


def tratadores(app) -> Tratadores:
    app.config["CARTAO_CHAVE_PRIVADA"] = cartao.chave_privada()
    return mensagens.tratadores("pagamentos", {"pagamentos.cobrar": cobrar, "pagamentos.estornar": estornar})
