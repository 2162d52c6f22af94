"""Pagamentos: cobrança idempotente por ordem, consulta e estorno."""
from flask import Blueprint, current_app, jsonify, request
from opentelemetry import trace

from bookstore import cartao, db, respostas, validacao
from bookstore.erros import ErroAPI, NaoEncontrado

from . import aprovacao, cobranca

tracer = trace.get_tracer("pagamentos")

bp = Blueprint("pagamentos", __name__, url_prefix="/pagamentos")

COLUNAS = cobranca.COLUNAS


def _pagamento_ou_404(cursor, pagamento_id: int) -> dict:
    pagamento = cursor.execute(f"SELECT {COLUNAS} FROM pagamentos WHERE id = %s", (pagamento_id,)).fetchone()
    if pagamento is None:
        raise NaoEncontrado("pagamento não encontrado", pagamento_id=pagamento_id)
    return pagamento


@bp.post("")
def cobrar():
    dados = validacao.corpo_json()
    ordem_id = validacao.inteiro(dados, "ordem_id", minimo=1)
    valor = validacao.dinheiro(dados, "valor", positivo=True)
    final = cartao.final(cartao.validar(dados))
    chave = validacao.idempotency_key()
    with tracer.start_as_current_span("pagamentos.decidir") as span:
        status, motivo = aprovacao.decidir(final, valor, current_app.config["PAGAMENTO_LIMITE"])
        # Só os quatro últimos dígitos vão para a telemetria, nunca o número inteiro.
        span.set_attributes({"bookstore.ordem.id": ordem_id, "bookstore.pagamento.valor": float(valor),
                             "bookstore.cartao.final": final, "bookstore.pagamento.status": status,
                             "bookstore.pagamento.motivo": motivo or ""})

    with db.transacao() as cursor:
        # ON CONFLICT: dois POSTs simultâneos para a mesma ordem geram um pagamento só.
        novo, existente = cobranca.gravar(cursor, ordem_id, valor, status, motivo, final, chave)

    if novo is None:
        trace.get_current_span().set_attribute("bookstore.pagamento.repetido", True)
        if existente.pop("chave") != chave:
            raise ErroAPI(409, "esta ordem já tem um pagamento feito por outra chamada (outra Idempotency-Key)",
                          pagamento_id=existente["id"])
        if existente["valor"] != valor:
            raise ErroAPI(409, "já existe um pagamento com outro valor para esta ordem",
                          pagamento_id=existente["id"], valor=existente["valor"])
        return jsonify(existente), 200  # repetição: devolve o que já existe, sem cobrar de novo

    return respostas.com_location(novo, 201, "pagamentos.detalhe", pagamento_id=novo["id"])


@bp.get("")
def listar():
    limite, offset = validacao.paginacao()
    ordem_id = request.args.get("ordem_id")
    if ordem_id is not None and (not (ordem_id.isascii() and ordem_id.isdigit())
                                 or not 1 <= int(ordem_id) <= validacao.MAIOR_INTEIRO):
        raise ErroAPI(422, "campo 'ordem_id': deve ser um inteiro positivo", campo="ordem_id")
    # ?chave=: só o pagamento feito com esta Idempotency-Key (a saga, ao desfazer, não estorna o de outro).
    chave = validacao.chave_na_consulta()
    with db.transacao() as cursor:
        if ordem_id is None:
            pagamentos = cursor.execute(
                f"SELECT {COLUNAS} FROM pagamentos ORDER BY id DESC LIMIT %s OFFSET %s", (limite, offset)
            ).fetchall()
        else:
            pagamentos = cursor.execute(
                f"SELECT {COLUNAS} FROM pagamentos WHERE ordem_id = %s AND (%s::text IS NULL OR chave = %s)"
                " ORDER BY id LIMIT %s OFFSET %s",
                (int(ordem_id), chave, chave, limite, offset),
            ).fetchall()
    return jsonify(pagamentos)


@bp.get("/<int:pagamento_id>")
def detalhe(pagamento_id: int):
    with db.transacao() as cursor:
        return jsonify(_pagamento_ou_404(cursor, pagamento_id))


@bp.post("/<int:pagamento_id>/estorno")
def estornar(pagamento_id: int):
    with db.transacao() as cursor:
        cobranca.estornar(cursor, pagamento_id)
        pagamento = _pagamento_ou_404(cursor, pagamento_id)
    if pagamento["status"] == "recusado":
        raise ErroAPI(409, "pagamento recusado não pode ser estornado", pagamento_id=pagamento_id)
    trace.get_current_span().set_attributes({"bookstore.pagamento.id": pagamento_id,
                                             "bookstore.pagamento.status": pagamento["status"]})
    return jsonify(pagamento)
