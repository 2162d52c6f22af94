"""O consumidor: processa cada mensagem uma vez em efeito, e só confirma (ack) depois do commit.

Para cada entrega, uma transação:
    inbox (o message_id) + o efeito (reservar, cobrar, avançar a saga) + as respostas na outbox
e só depois do commit o `basic_ack`. Se o processo morrer antes do commit, nada foi gravado e o
broker entrega de novo (a outro consumidor, se houver); se morrer entre o commit e o ack, a nova
entrega encontra a inbox e só reenvia a resposta que já estava gravada. Dois consumidores da mesma
fila são seguros pelo mesmo motivo — e porque cada efeito trava o que muda no banco (o estoque em
livros/estoque.py, a ordem em ordens/repositorio.py, o pagamento por ordem em pagamentos).

Uma falha que não é do negócio (banco fora, um defeito) desfaz a transação e devolve a mensagem à
fila (nack); o broker conta as entregas e, passado MENSAGENS_TENTATIVAS, a manda para `<fila>.dlq`.
Uma mensagem que não se entende (destino desconhecido, corpo que não é JSON) vai direto para lá, e
também a de um remetente que não é quem o contrato diz que a manda (o `user_id`, ver acessos.py): um
evento forjado não avança saga nenhuma.
"""
import logging
import random
import threading
import uuid
from dataclasses import dataclass
from typing import Callable

import simplejson
from opentelemetry.trace import Status, StatusCode

from bookstore import db, falhas

from . import conexao, filas, inbox, outbox, rastreio

logger = logging.getLogger(__name__)

# Antes de devolver à fila uma mensagem que falhou: um pouco mais a cada entrega (o banco voltando).
ESPERA_POR_ENTREGA_SEGUNDOS = 0.25
ESPERA_MAXIMA_SEGUNDOS = 2.0


@dataclass(frozen=True)
class Tratadores:
    """O que um serviço faz com cada mensagem da fila dele. Cada tratador roda dentro da transação da
    inbox: o que ele grava (com `db.transacao()`) e envia (com `outbox.enviar`) vai no mesmo commit.
    `remetentes`: quem pode mandar cada mensagem (o `user_id` que o broker conferiu na publicação).
    `responder_falha(destino, corpo, motivo)`: a resposta de um comando que falhou por uma falha
    injetada (o equivalente do 500 da saga HTTP); None onde não há falha a injetar (os eventos de ordens)."""
    por_destino: dict[str, Callable[[dict], None]]
    remetentes: dict[str, tuple[str, ...]]
    responder_falha: Callable[[str, dict, str], None] | None = None


class MensagemInvalida(Exception):
    pass


class Consumidor(threading.Thread):
    def __init__(self, app, servico: str, tratadores: Tratadores, parar: threading.Event, tentativas: int,
                 so_links: bool, fila: str):
        super().__init__(name=f"consumidor-{servico}", daemon=True)
        self.app, self.servico, self.tratadores = app, servico, tratadores
        self.parar, self.tentativas, self.so_links = parar, tentativas, so_links
        self.fila = fila
        self.tentativas_de_conexao = conexao.Tentativas(logger, f"consumidor de {self.fila}")

    def run(self) -> None:
        while not self.parar.is_set():
            try:
                self._rodar()
            except Exception as erro:  # broker fora: a thread não morre, tenta de novo
                self.tentativas_de_conexao.falhou(erro)
                self.parar.wait(1)

    def _rodar(self) -> None:
        amqp = conexao.conectar(f"{self.servico}-consumidor")
        try:
            canal = amqp.channel()
            # Uma mensagem por vez: a próxima fica no broker, disponível para outro consumidor, em
            # vez de esperar na memória deste (e a latência injetada segura uma só).
            canal.basic_qos(prefetch_count=1)
            self.amqp = amqp
            self.tentativas_de_conexao.conectou()
            logger.info("consumidor de %s pronto", self.fila)
            # inactivity_timeout: volta a cada segundo mesmo sem mensagens — para notar o pedido de
            # parar e, no caminho, atender os heartbeats do broker.
            for metodo, propriedades, corpo in canal.consume(self.fila, inactivity_timeout=1):
                if metodo is not None:
                    self._entregar(canal, metodo, propriedades, corpo)
                if self.parar.is_set():
                    break
            canal.cancel()
        finally:
            if amqp.is_open:
                amqp.close()

    def _entregar(self, canal, metodo, propriedades, corpo: bytes) -> None:
        # x-delivery-count: quantas vezes a quorum queue já entregou esta mensagem antes.
        entrega = 1 + int((propriedades.headers or {}).get("x-delivery-count", 0))
        with self.app.app_context(), rastreio.Processamento(metodo.routing_key, self.fila, propriedades, entrega,
                                                            self.so_links) as span:
            try:
                tratador, dados, mensagem_id = self._entender(metodo.routing_key, propriedades, corpo)
            except MensagemInvalida as erro:
                logger.error("mensagem %s em %s descartada para %s: %s", propriedades.message_id, self.fila,
                             filas.das_mortas(self.fila), erro)
                span.set_status(Status(StatusCode.ERROR, str(erro)))
                span.set_attribute("bookstore.mensagem.morta", True)
                canal.basic_reject(metodo.delivery_tag, requeue=False)
                return
            span.set_attribute("bookstore.ordem.id", int(dados.get("ordem_id") or 0))
            try:
                self._processar(span, metodo.routing_key, tratador, dados, mensagem_id)
            except Exception as erro:
                span.record_exception(erro)
                span.set_status(Status(StatusCode.ERROR, type(erro).__name__))
                ultima = entrega >= self.tentativas
                span.set_attribute("bookstore.mensagem.morta", ultima)
                logger.warning("mensagem %s em %s falhou na entrega %s de %s (%s: %s)%s", mensagem_id, self.fila,
                               entrega, self.tentativas, type(erro).__name__, erro,
                               f"; vai para {filas.das_mortas(self.fila)}" if ultima else "; volta para a fila")
                self.amqp.sleep(min(ESPERA_MAXIMA_SEGUNDOS, ESPERA_POR_ENTREGA_SEGUNDOS * entrega))
                # reject, não nack: do RabbitMQ 4.3 em diante (a imagem do compose), só o reject conta como
                # falha e soma na contagem de entregas; o nack devolveria a mensagem sem contar, e ela nunca
                # chegaria à fila de mortas (https://www.rabbitmq.com/docs/4.3/nack). No 3.10 do Debian, os
                # dois contam.
                canal.basic_reject(metodo.delivery_tag, requeue=True)
                return
        canal.basic_ack(metodo.delivery_tag)  # só depois do commit

    def _entender(self, destino: str, propriedades, corpo: bytes):
        tratador = self.tratadores.por_destino.get(destino)
        if tratador is None:
            raise MensagemInvalida(f"ninguém trata {destino!r} em {self.servico}")
        # O broker só deixa publicar com o user_id de quem conectou (ou sem nenhum): o que resta conferir
        # é se esse usuário é um dos que mandam esta mensagem.
        if propriedades.user_id not in self.tratadores.remetentes[destino]:
            raise MensagemInvalida(f"remetente {propriedades.user_id or '(sem user_id)'} não manda {destino} "
                                   f"(quem manda: {', '.join(self.tratadores.remetentes[destino])})")
        try:
            mensagem_id = uuid.UUID(propriedades.message_id or "")
            dados = simplejson.loads(corpo, use_decimal=True)
        except ValueError as erro:
            raise MensagemInvalida(f"sem message_id ou corpo que não é JSON ({erro})") from None
        if not isinstance(dados, dict):
            raise MensagemInvalida("o corpo não é um objeto JSON")
        return tratador, dados, mensagem_id

    def _processar(self, span, destino: str, tratador, dados: dict, mensagem_id: uuid.UUID) -> None:
        falha = self._falha_injetada(span) if self.tratadores.responder_falha else None
        with db.transacao() as cursor:
            if not inbox.registrar(cursor, mensagem_id, destino):
                reenviadas = outbox.reenviar_respostas(cursor, mensagem_id)
                span.set_attributes({"bookstore.mensagem.repetida": True, "bookstore.mensagem.respostas_reenviadas":
                                     reenviadas})
                logger.info("mensagem %s (%s) repetida: já processada; %s resposta(s) reenviada(s)", mensagem_id,
                            destino, reenviadas)
                return
            marca = outbox.mensagem_em_processamento.set(mensagem_id)
            try:
                if falha:
                    self.tratadores.responder_falha(destino, dados, f"{self.servico}_indisponivel")
                else:
                    tratador(dados)
            finally:
                outbox.mensagem_em_processamento.reset(marca)

    def _falha_injetada(self, span) -> bool:
        """As falhas do laboratório valem também aqui (bookstore/falhas.py): a global, de
        PUT /admin/falhas, e a desta compra, no baggage que veio nos cabeçalhos. A latência segura a
        mensagem (a fila anda mais devagar); o erro vira a resposta de falha que a saga HTTP receberia
        num 500. Devolve se há erro a responder."""
        global_ = falhas.configuracao_atual()
        da_compra = (falhas.falha_no_baggage(self.servico) if self.app.config["ADMIN_HABILITADO"]
                     else {"latencia_ms": 0, "erro": False})
        if da_compra["latencia_ms"] or da_compra["erro"]:
            span.set_attribute("bookstore.falha.origem", "baggage")
        latencia_ms = min(global_["latencia_ms"] + da_compra["latencia_ms"], falhas.MAIOR_LATENCIA_MS)
        if latencia_ms:
            span.add_event("bookstore.falha.latencia", {"bookstore.falha.latencia_ms": latencia_ms})
            self.amqp.sleep(latencia_ms / 1000)  # sleep do pika: os heartbeats seguem respondidos
        erro = da_compra["erro"] or (global_["taxa_erro"] and random.random() < float(global_["taxa_erro"]))
        if erro:
            logger.warning("falha injetada ao processar %s", span.name)
            span.set_attribute("bookstore.falha.injetada", True)
            span.record_exception(falhas.FalhaInjetada())
            span.set_status(Status(StatusCode.ERROR, "falha injetada"))
        return bool(erro)

