"""A compra por mensagens (ORDENS_SAGA=mensagens): o que os três serviços compartilham.

O caminho de uma mensagem, e o módulo de cada passo:

    requisição ou consumidor ──(mesma transação do efeito)──▶ outbox (tabela mensagens_a_enviar)
        outbox.py: guarda a mensagem e o contexto do trace (traceparent + baggage) junto
    relay ──(publisher confirms)──▶ RabbitMQ, exchange `bookstore`, filas em filas.py
        relay.py: lê a outbox, publica com um span `send`, marca como publicada
    consumidor ──▶ inbox (mensagens_recebidas) + efeito + respostas na outbox, um commit, depois o ack
        consumidor.py: span `process`, falhas injetadas, repetições, tentativas, fila de mortas

Esta biblioteca não conhece serviço nenhum pelo nome: quem manda o quê para quem, e em que fila, é
o contrato das mensagens (bookstore/mensagens.py), que o mensageiro (`__main__.py`) lhe passa.

`rastreio.py` é a telemetria das mensagens (spans, contexto nos cabeçalhos, métricas); `limpeza.py`
apaga da outbox e da inbox o que passou do prazo (o relay a chama); `conexao.py` abre o AMQP; `__main__.py` é o processo `python -m bookstore.mensageria <serviço>` (o "mensageiro"),
que roda o relay e o consumidor do serviço ao lado do gunicorn dele.

Por que a requisição HTTP nunca fala com o broker: um BlockingConnection do pika só responde aos
heartbeats enquanto faz I/O; parado num worker síncrono do gunicorn entre duas requisições, o broker
derruba a conexão ("missed heartbeats") e o próximo publish levanta StreamLostError. E, mais
importante, publicar depois do commit perde a mensagem se o processo morrer entre os dois, e
publicar antes manda uma mensagem de algo que pode não ser gravado. A outbox grava as duas coisas no
mesmo commit; o relay, um processo com a conexão sempre em uso, publica depois.
"""
