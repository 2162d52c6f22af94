"""Os eventos que ordens recebe pela fila ordens.eventos (ORDENS_SAGA=mensagens): cada um é entregue
ao orquestrador (orquestrador.py), dentro da transação da inbox. Ordens não recebe comandos, então não
há falha injetada aqui: as de ordens valem no POST /ordens, como na saga HTTP."""
from bookstore.mensageria.consumidor import Tratadores

from .orquestrador import SagaPorMensagens

# evento (e o método do orquestrador com o mesmo nome) → os campos do corpo que ele recebe além do ordem_id
EVENTOS = {
    "estoque_reservado": ("reserva",),
    "estoque_indisponivel": (),
    "pagamento": ("pagamento",),
    "pagamento_conflitante": (),
    "cobranca_cancelada": (),
    "reserva_confirmada": (),
    "reserva_expirada": (),
    "reserva_cancelada": (),
    "reserva_ja_confirmada": (),
    "estorno_concluido": ("pagamentos",),
    "falha": ("motivo", "comando"),
}


def tratadores(app) -> Tratadores:
    # O mensageiro de ordens trata os eventos pela saga por mensagens mesmo que este processo tenha
    # subido sem ORDENS_SAGA=mensagens (os eventos só existem se alguém comprou por mensagens).
    saga = app.extensions["ordens.saga"]
    orquestrador = saga if isinstance(saga, SagaPorMensagens) else SagaPorMensagens(saga)

    def tratador(evento: str, campos: tuple):
        metodo = getattr(orquestrador, evento)
        return lambda corpo: metodo(corpo["ordem_id"], *(corpo[campo] for campo in campos))

    return Tratadores({f"ordens.{evento}": tratador(evento, campos) for evento, campos in EVENTOS.items()})
