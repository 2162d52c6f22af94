"""`python -m bookstore.mensageria <serviço>`: o mensageiro de um serviço — o relay da outbox dele e o
consumidor da fila dele, num processo ao lado do gunicorn (o mesmo código, o mesmo banco).

Escala na horizontal: rode quantos quiser (MENSAGEIROS no `make local`, réplicas no compose); as
mensagens se repartem entre os consumidores e os relays não publicam a mesma linha duas vezes.
SIGTERM (ou Ctrl-C) termina a mensagem em curso, fecha as conexões e esvazia a telemetria.
"""
import importlib
import logging
import signal
import sys
import threading

from bookstore import config, db, mensagens, telemetria, topologia

from . import conexao
from .consumidor import Consumidor
from .relay import Relay

logger = logging.getLogger("bookstore.mensageria")
PRAZO_PARA_PARAR_SEGUNDOS = 5


def main(argumentos: list[str]) -> int:
    if len(argumentos) != 1 or argumentos[0] not in topologia.SERVICOS:
        print(f"uso: python -m bookstore.mensageria <{'|'.join(topologia.SERVICOS)}>", file=sys.stderr)
        return 2
    servico = argumentos[0]
    conexao.url()  # sem o broker configurado, uma linha clara antes de subir qualquer thread
    parar = threading.Event()
    for sinal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sinal, lambda *_: parar.set())
    # O SDK deste processo, como num worker do gunicorn depois do fork: o mesmo service.name (é o
    # mesmo serviço), outro service.instance.id.
    telemetria.configurar(servico)
    app = importlib.import_module(servico).create_app()
    db.preparar(app)  # idempotente: o mensageiro pode subir antes do gunicorn (compose)
    tratadores = importlib.import_module(f"{servico}.mensagens").tratadores(app)
    threads = [Relay(app, servico, parar, mensagens.filas_em_que_publica(servico),
                     config.ler("MENSAGENS_GUARDAR_SEGUNDOS")),
               Consumidor(app, servico, tratadores, parar, config.ler("MENSAGENS_TENTATIVAS"),
                          config.ler("MENSAGENS_SO_LINKS"), mensagens.fila_de(servico))]
    for thread in threads:
        thread.start()
    logger.info("mensageiro de %s no ar (relay e consumidor)", servico)
    parar.wait()
    for thread in threads:
        thread.join(PRAZO_PARA_PARAR_SEGUNDOS)
    db.fechar(app)
    telemetria.encerrar()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except config.ConfiguracaoInvalida as erro:
        print(f"✘ {erro}", file=sys.stderr)
        sys.exit(2)
