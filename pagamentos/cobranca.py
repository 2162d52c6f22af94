"""Gravar uma cobrança e estornar: o que o POST /pagamentos e a fila pagamentos.comandos fazem igual.

Um pagamento por ordem (a UNIQUE de schema.sql): duas cobranças da mesma ordem ao mesmo tempo geram
uma só, e a segunda recebe a primeira de volta — é o que torna a cobrança idempotente nos dois
transportes."""
from opentelemetry import trace

from . import telemetria

COLUNAS = "id, ordem_id, valor, status, motivo, cartao_final"


def gravar(cursor, ordem_id: int, valor, status: str, motivo: str | None, final: str,
           chave: str | None) -> tuple[dict | None, dict]:
    """(novo, existente): `novo` é o pagamento criado agora (None numa repetição); `existente` o
    que já havia para a ordem, com a `chave` de quem o criou."""
    novo = cursor.execute(
        f"INSERT INTO pagamentos (ordem_id, valor, status, motivo, cartao_final, chave)"
        f" VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (ordem_id) DO NOTHING RETURNING {COLUNAS}",
        (ordem_id, valor, status, motivo, final, chave),
    ).fetchone()
    existente = novo or cursor.execute(
        f"SELECT {COLUNAS}, chave FROM pagamentos WHERE ordem_id = %s", (ordem_id,)
    ).fetchone()
    if novo is not None:
        trace.get_current_span().set_attribute("bookstore.pagamento.id", novo["id"])
        telemetria.pagamentos.add(1, {"bookstore.pagamento.status": status, "bookstore.pagamento.motivo": motivo or ""})
        telemetria.valor.record(float(valor), {"bookstore.pagamento.status": status})
    return novo, existente


def estornar(cursor, pagamento_id: int) -> bool:
    """Condicional: só um aprovado vira estornado; repetir não estorna duas vezes."""
    estornou = cursor.execute(
        "UPDATE pagamentos SET status = 'estornado' WHERE id = %s AND status = 'aprovado'", (pagamento_id,),
    ).rowcount > 0
    if estornou:
        telemetria.pagamentos.add(1, {"bookstore.pagamento.status": "estornado", "bookstore.pagamento.motivo": ""})
    return estornou
