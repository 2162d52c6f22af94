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


def definicoes(filas: dict[str, str], tentativas: int, vhost: str) -> dict:
    """Exchanges, filas e ligações no formato das definições do RabbitMQ (o broker as carrega ao subir,
    ver acessos.py). Quem as declara é o broker, não os serviços: os usuários deles não têm permissão de
    configurar nada — nem de apagar a fila de outro. `filas`: {fila: padrão de routing key}."""
    def exchange(nome: str, tipo: str) -> dict:
        return {"name": nome, "vhost": vhost, "type": tipo, "durable": True, "auto_delete": False,
                "internal": False, "arguments": {}}

    def fila(nome: str, argumentos: dict) -> dict:
        return {"name": nome, "vhost": vhost, "durable": True, "auto_delete": False, "arguments": argumentos}

    def ligacao(exchange_: str, fila_: str, routing_key: str) -> dict:
        return {"source": exchange_, "vhost": vhost, "destination": fila_, "destination_type": "queue",
                "routing_key": routing_key, "arguments": {}}

    return {
        "exchanges": [exchange(EXCHANGE, "topic"), exchange(EXCHANGE_DAS_MORTAS, "direct")],
        "queues": [q for nome in filas for q in (
            fila(das_mortas(nome), {"x-queue-type": "quorum"}),
            fila(nome, {
                "x-queue-type": "quorum",
                # O limite conta as devoluções, não as entregas: a mensagem vai para a de mortas quando as
                # devoluções passam dele. Com tentativas - 1, são `tentativas` entregas ao todo, como o log diz.
                "x-delivery-limit": tentativas - 1,
                "x-dead-letter-exchange": EXCHANGE_DAS_MORTAS,
                "x-dead-letter-routing-key": nome,
            }))],
        "bindings": [b for nome, padrao in filas.items() for b in (
            ligacao(EXCHANGE_DAS_MORTAS, das_mortas(nome), nome), ligacao(EXCHANGE, nome, padrao))],
    }
