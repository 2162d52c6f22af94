"""A inbox: cada mensagem recebida é gravada uma vez, na transação do efeito dela."""
import uuid


def registrar(cursor, mensagem_id: uuid.UUID, destino: str) -> bool:
    """True se é a primeira entrega desta mensagem; False se já foi processada (repetição)."""
    nova = cursor.execute(
        "INSERT INTO mensagens_recebidas (id, destino) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING RETURNING id",
        (mensagem_id, destino)).fetchone()
    if nova is None:
        cursor.execute("UPDATE mensagens_recebidas SET repeticoes = repeticoes + 1 WHERE id = %s", (mensagem_id,))
    return nova is not None
