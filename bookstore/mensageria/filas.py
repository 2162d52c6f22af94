"""As filas da compra por mensagens: quem manda o quê para onde.

Um exchange `topic` só, `bookstore`; a routing key é `<serviço que recebe>.<o quê>`:

    livros.comandos      ← livros.reservar, livros.confirmar, livros.cancelar       (de ordens)
    pagamentos.comandos  ← pagamentos.cobrar, pagamentos.estornar                   (de ordens)
    ordens.eventos       ← ordens.estoque_reservado, ordens.pagamento, ordens.falha… (de livros e pagamentos)

Comandos pedem ("reserve"), eventos contam ("reservei"): só ordens manda comandos, e é só a ele que os
eventos interessam — a saga é orquestrada, como a HTTP. Cada fila é uma quorum queue com limite de
entregas (MENSAGENS_TENTATIVAS): uma mensagem que falha N vezes (o banco fora, um defeito) não trava a
fila — o próprio broker a manda para `<fila>.dlq` (ex.: pagamentos.comandos.dlq), pelo exchange
`bookstore.mortas`. Por que quorum
e não clássica: a contagem de entregas é do broker (cabeçalho x-delivery-count), sobrevive à morte do
consumidor e vale para qualquer número de consumidores; numa fila clássica seria preciso republicar a
mensagem com um contador, e republicar é mais uma escrita que pode falhar no meio.
"""
from bookstore import topologia

EXCHANGE = "bookstore"
EXCHANGE_DAS_MORTAS = "bookstore.mortas"
# A fila de cada serviço: o que ele consome.
FILA_DO_SERVICO = {servico: f"{servico}.{'eventos' if servico == 'ordens' else 'comandos'}"
                   for servico in topologia.SERVICOS}
FILAS = tuple(FILA_DO_SERVICO.values())


def servico_de(routing_key: str) -> str:
    return routing_key.split(".", 1)[0]


def fila_de(routing_key: str) -> str:
    return FILA_DO_SERVICO[servico_de(routing_key)]


def das_mortas(fila: str) -> str:
    return f"{fila}.dlq"


def destino_do_envio(routing_key: str) -> str:
    """`messaging.destination.name` de um send no RabbitMQ (convenções): `{exchange}:{routing key}`."""
    return f"{EXCHANGE}:{routing_key}"


def destino_do_processamento(routing_key: str, fila: str) -> str:
    """… e de um process: `{exchange}:{routing key}:{fila}`."""
    return f"{EXCHANGE}:{routing_key}:{fila}"


def declarar(canal, tentativas: int) -> None:
    """Declara tudo (idempotente): qualquer processo que conecta pode ser o primeiro. Os argumentos
    de uma fila precisam ser iguais em todas as declarações: todos leem MENSAGENS_TENTATIVAS."""
    canal.exchange_declare(EXCHANGE, "topic", durable=True)
    canal.exchange_declare(EXCHANGE_DAS_MORTAS, "direct", durable=True)
    for servico, fila in FILA_DO_SERVICO.items():
        canal.queue_declare(das_mortas(fila), durable=True)
        canal.queue_bind(das_mortas(fila), EXCHANGE_DAS_MORTAS, routing_key=fila)
        canal.queue_declare(fila, durable=True, arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": tentativas,
            "x-dead-letter-exchange": EXCHANGE_DAS_MORTAS,
            "x-dead-letter-routing-key": fila,
        })
        canal.queue_bind(fila, EXCHANGE, routing_key=f"{servico}.*")
