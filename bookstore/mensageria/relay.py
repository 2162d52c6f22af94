"""O relay: publica o que a outbox guardou, com publisher confirms, e mede as filas em que publica.

Uma linha só é marcada como publicada depois que o broker confirmou (a mensagem está no disco
dele). Se o relay morrer entre a confirmação e a marca, a mensagem sai de novo: entrega "pelo menos
uma vez", e a inbox de quem recebe reconhece a repetição pelo message_id. Vários relays do mesmo
serviço (mensageiros escalados) não publicam a mesma linha ao mesmo tempo: `FOR UPDATE SKIP LOCKED`.
"""
import logging
import threading
import time

import pika
import psycopg
import simplejson
from opentelemetry.instrumentation.utils import suppress_instrumentation

from bookstore import db

from . import conexao, filas, limpeza, rastreio

logger = logging.getLogger(__name__)

LOTE = 50
# Sem aviso do banco (LISTEN/NOTIFY), o relay olha a outbox mesmo assim a cada tanto: um aviso
# perdido (a conexão do LISTEN caiu e voltou) não deixa mensagem parada.
ESPERA_MAXIMA_SEGUNDOS = 1.0
MEDIR_FILAS_A_CADA_SEGUNDOS = 1.0


class Relay(threading.Thread):
    def __init__(self, app, servico: str, parar: threading.Event, filas_de_destino: list[str],
                 guardar_segundos: float):
        super().__init__(name=f"relay-{servico}", daemon=True)
        self.app, self.servico, self.parar = app, servico, parar
        self.guardar_segundos = guardar_segundos  # a limpeza da outbox e da inbox (limpeza.py)
        # As filas em que este serviço publica (as de quem recebe o que ele manda) e as de mortas delas.
        self.filas_medidas = [*filas_de_destino, *map(filas.das_mortas, filas_de_destino)]
        self.tentativas_de_conexao = conexao.Tentativas(logger, f"relay de {self.servico}")

    def run(self) -> None:
        while not self.parar.is_set():
            try:
                self._rodar()
            except Exception as erro:  # broker ou banco fora: a thread não morre, tenta de novo
                self.tentativas_de_conexao.falhou(erro)
                self.parar.wait(1)

    def _rodar(self) -> None:
        with suppress_instrumentation(), psycopg.connect(self.app.config["DATABASE_URL"], autocommit=True,
                                                         connect_timeout=2) as avisos:
            avisos.execute("LISTEN mensagens_a_enviar")
            amqp = conexao.conectar(f"{self.servico}-relay")
            try:
                canal = amqp.channel()
                canal.confirm_delivery()  # cada basic_publish espera o ack do broker (ou levanta)
                parametros = pika.URLParameters(conexao.url())
                servidor = (parametros.host, parametros.port)
                self.usuario = parametros.credentials.username
                self.tentativas_de_conexao.conectou()
                logger.info("relay de %s publicando em %s:%s", self.servico, *servidor)
                proxima_medida = proxima_limpeza = 0.0
                while not self.parar.is_set():
                    while self._publicar_lote(canal, servidor):
                        pass
                    if time.monotonic() >= proxima_medida:
                        self._medir_filas(canal)
                        proxima_medida = time.monotonic() + MEDIR_FILAS_A_CADA_SEGUNDOS
                    if time.monotonic() >= proxima_limpeza:
                        self._limpar()
                        proxima_limpeza = time.monotonic() + limpeza.LIMPAR_A_CADA_SEGUNDOS
                    for _ in avisos.notifies(timeout=ESPERA_MAXIMA_SEGUNDOS, stop_after=1):
                        pass
                    amqp.process_data_events(0)  # heartbeats: a conexão nunca fica sem I/O
            finally:
                if amqp.is_open:
                    amqp.close()

    def _publicar_lote(self, canal, servidor) -> int:
        with self.app.app_context():
            # A leitura e a marca da outbox são maquinaria: sem spans de SQL (o `send` conta a história).
            with suppress_instrumentation(), db.transacao() as cursor:
                linhas = cursor.execute(
                    "SELECT id, destino, corpo, contexto, conversa, envios,"
                    "       extract(epoch FROM clock_timestamp() - criada_em)::float AS espera_na_outbox_s"
                    "  FROM mensagens_a_enviar WHERE publicada_em IS NULL"
                    " ORDER BY criada_em LIMIT %s FOR UPDATE SKIP LOCKED", (LOTE,)).fetchall()
                for linha in linhas:
                    self._publicar(canal, servidor, linha)
                    # O cartão (selado) só existe na mensagem de cobrança, e só até o broker tê-la.
                    cursor.execute(
                        "UPDATE mensagens_a_enviar SET publicada_em = clock_timestamp(), envios = envios + 1,"
                        "       corpo = corpo - 'cartao_selado' WHERE id = %s", (linha["id"],))
        return len(linhas)

    def _publicar(self, canal, servidor, linha: dict) -> None:
        with rastreio.Envio(linha, servidor) as cabecalhos:
            canal.basic_publish(
                filas.EXCHANGE, linha["destino"], simplejson.dumps(linha["corpo"], use_decimal=True),
                pika.BasicProperties(content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent,
                                     message_id=str(linha["id"]), correlation_id=linha["conversa"],
                                     # o broker confere que é o usuário desta conexão; quem recebe, que é
                                     # um dos remetentes da mensagem (acessos.py)
                                     user_id=self.usuario, app_id=self.servico, timestamp=int(time.time()),
                                     headers=cabecalhos),
                mandatory=True)  # sem fila para a routing key: erro aqui, não uma mensagem perdida

    def _limpar(self) -> None:
        with self.app.app_context(), suppress_instrumentation(), db.transacao() as cursor:
            apagadas = limpeza.limpar(cursor, self.guardar_segundos)
        if any(apagadas.values()):
            logger.info("relay de %s: limpeza apagou %s", self.servico,
                        ", ".join(f"{n} de {tabela}" for tabela, n in apagadas.items()))

    def _medir_filas(self, canal) -> None:
        for fila in self.filas_medidas:
            estado = canal.queue_declare(fila, passive=True).method
            rastreio.registrar_profundidade(fila, estado.message_count, estado.consumer_count)
