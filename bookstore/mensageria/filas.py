"""As filas da compra por mensagens: um exchange, uma fila por serviço, uma fila de mortas por fila.

Um exchange `topic` só, `bookstore`; cada fila é ligada a um padrão de routing key (`<serviço>.*`).
Quem manda o quê para onde é o contrato das mensagens (bookstore/mensagens.py); aqui fica só como
as filas são feitas, sem nome de serviço nenhum.

Cada fila é uma quorum queue com limite de entregas (MENSAGENS_TENTATIVAS): uma mensagem que falha
N vezes (o banco fora, um defeito) não trava a fila — o próprio broker a manda para `<fila>.dlq`
(ex.: pagamentos.comandos.dlq), pelo exchange `bookstore.mortas`. Por que quorum e não clássica: a
contagem de entregas é do broker (cabeçalho x-delivery-count), sobrevive à morte do consumidor e vale
para qualquer número de consumidores; numa fila clássica seria preciso republicar a mensagem com um
contador, e republicar é mais uma escrita que pode falhar no meio.
"""
EXCHANGE = "bookstore"
EXCHANGE_DAS_MORTAS = "bookstore.mortas"


def das_mortas(fila: str) -> str:
    return f"{fila}.dlq"


def destino_do_envio(routing_key: str) -> str:
    """`messaging.destination.name` de um send no RabbitMQ (convenções): `{exchange}:{routing key}`."""
    return f"{EXCHANGE}:{routing_key}"


def destino_do_processamento(routing_key: str, fila: str) -> str:
    """… e de um process: `{exchange}:{routing key}:{fila}`."""
    return f"{EXCHANGE}:{routing_key}:{fila}"


def declarar(canal, filas: dict[str, str], tentativas: int) -> None:
    """Declara tudo (idempotente): qualquer processo que conecta pode ser o primeiro. `filas`: {fila:
    padrão de routing key}. Os argumentos de uma fila precisam ser iguais em todas as declarações:
    todos leem MENSAGENS_TENTATIVAS."""
    canal.exchange_declare(EXCHANGE, "topic", durable=True)
    canal.exchange_declare(EXCHANGE_DAS_MORTAS, "direct", durable=True)
    for fila, padrao in filas.items():
        canal.queue_declare(das_mortas(fila), durable=True)
        canal.queue_bind(das_mortas(fila), EXCHANGE_DAS_MORTAS, routing_key=fila)
        canal.queue_declare(fila, durable=True, arguments={
            "x-queue-type": "quorum",
            # O limite conta as devoluções, não as entregas: a mensagem vai para a de mortas quando as
            # devoluções passam dele. Com tentativas - 1, são `tentativas` entregas ao todo, como o log diz.
            "x-delivery-limit": tentativas - 1,
            "x-dead-letter-exchange": EXCHANGE_DAS_MORTAS,
            "x-dead-letter-routing-key": fila,
        })
        canal.queue_bind(fila, EXCHANGE, routing_key=padrao)
