"""A conexão AMQP dos mensageiros (pika BlockingConnection), com o broker de RABBITMQ_URL."""
import logging
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import pika

from bookstore import config


def url() -> str:
    """A URL do broker com o usuário deste serviço (acessos.py). A senha vem nela (make local) ou de um
    arquivo só do serviço (RABBITMQ_SENHA_ARQUIVO: no compose, sorteada num volume antes do broker subir)."""
    base = config.ler("RABBITMQ_URL")
    if not base:
        raise config.ConfiguracaoInvalida("RABBITMQ_URL não definida: o mensageiro entra no broker com o usuário "
                                          "do serviço (o make local e o compose dão a URL a cada um)")
    arquivo = config.ler("RABBITMQ_SENHA_ARQUIVO")
    if not arquivo:
        return base
    partes = urlsplit(base)
    senha = quote(Path(arquivo).read_text().strip(), safe="")
    porta = f":{partes.port}" if partes.port else ""
    return urlunsplit(partes._replace(netloc=f"{partes.username}:{senha}@{partes.hostname}{porta}"))


def conectar(nome: str) -> pika.BlockingConnection:
    """Uma conexão por thread: o BlockingConnection não é thread-safe. O nome aparece na lista de
    conexões do broker (rabbitmqctl list_connections client_properties, a aba Connections da gestão)."""
    parametros = pika.URLParameters(url())
    parametros.client_properties = {"connection_name": nome}
    # Heartbeat de 30 s: o relay e o consumidor fazem I/O pelo menos a cada segundo (ver relay.py e
    # consumidor.py), então respondem a tempo; uma conexão morta é notada em ~1 minuto.
    parametros.heartbeat = 30
    parametros.connection_attempts = 1
    parametros.blocked_connection_timeout = 30  # o alarme de memória do broker freia publicações
    return pika.BlockingConnection(parametros)


class Tentativas:
    """O laço de quem fala com o broker (o relay, o consumidor) tenta de novo a cada segundo; o log diz
    uma linha quando a conexão cai e uma quando ela volta, não uma por tentativa — com o broker fora, as
    seis threads dos três mensageiros encheriam o terminal de avisos iguais."""

    def __init__(self, logger: logging.Logger, quem: str):
        self.logger, self.quem, self.seguidas = logger, quem, 0

    def falhou(self, erro: Exception) -> None:
        self.seguidas += 1
        if self.seguidas == 1:
            self.logger.warning("%s: %s: %s; tentando de novo a cada 1 s", self.quem, type(erro).__name__, erro)

    def conectou(self) -> None:
        if self.seguidas > 1:
            self.logger.info("%s: de volta depois de %d tentativas", self.quem, self.seguidas)
        self.seguidas = 0
