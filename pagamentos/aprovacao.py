"""A decisão de aprovar ou recusar: regras fixas, para que os exercícios sejam reproduzíveis."""
from decimal import Decimal

# Cartão de teste que sempre é recusado (o 4111 1111 1111 1111 é aprovado).
FINAL_RECUSADO = "0002"


def decidir(cartao_final: str, valor: Decimal, limite: Decimal) -> tuple[str, str | None]:
    """Devolve (status, motivo)."""
    if cartao_final == FINAL_RECUSADO:
        return "recusado", "cartao_recusado"
    if valor > limite:
        return "recusado", "limite_excedido"
    return "aprovado", None
