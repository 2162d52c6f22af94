"""Os eventos que ordens recebe pela fila ordens.eventos (ORDENS_SAGA=mensagens): cada um é entregue
ao método do orquestrador (orquestrador.py) com o mesmo nome, dentro da transação da inbox, com os
campos que o contrato (bookstore/mensagens.py) diz que o corpo leva."""
from bookstore import mensagens
from bookstore.mensageria.consumidor import Tratadores

from .orquestrador import SagaPorMensagens


def _com_os_campos(routing_key: str, metodo):
    """O corpo vira argumentos: `estoque_reservado(ordem_id, reserva)`, `falha(ordem_id, motivo, comando)`."""
    campos = mensagens.MENSAGENS[routing_key].campos
    return lambda corpo: metodo(corpo["ordem_id"], *(corpo[campo] for campo in campos))


def tratadores(app) -> Tratadores:
    # O mensageiro de ordens trata os eventos pela saga por mensagens mesmo que este processo tenha
    # subido sem ORDENS_SAGA=mensagens (os eventos só existem se alguém comprou por mensagens).
    saga = app.extensions["ordens.saga"]
    o = saga if isinstance(saga, SagaPorMensagens) else SagaPorMensagens(saga)
    return mensagens.tratadores("ordens", {routing_key: _com_os_campos(routing_key, metodo) for routing_key, metodo in {
        "ordens.estoque_reservado": o.estoque_reservado,
        "ordens.estoque_indisponivel": o.estoque_indisponivel,
        "ordens.pagamento": o.pagamento,
        "ordens.pagamento_conflitante": o.pagamento_conflitante,
        "ordens.cobranca_cancelada": o.cobranca_cancelada,
        "ordens.reserva_confirmada": o.reserva_confirmada,
        "ordens.reserva_expirada": o.reserva_expirada,
        "ordens.reserva_cancelada": o.reserva_cancelada,
        "ordens.reserva_ja_confirmada": o.reserva_ja_confirmada,
        "ordens.estorno_concluido": o.estorno_concluido,
        "ordens.falha": o.falha,
    }.items()})
