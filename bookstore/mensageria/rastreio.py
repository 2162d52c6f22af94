"""A telemetria das mensagens: o contexto nos cabeçalhos, os spans `send`/`process`, as métricas.

Por que a API de propagação do OpenTelemetry, e não a opentelemetry-instrumentation-pika 0.66b1:
- com BlockingConnection ela cria DOIS spans PRODUCER aninhados por publicação (embrulha
  `BlockingConnection.channel` e `Connection.channel`);
- usa os nomes de atributo de antes das convenções 1.26 (`messaging.destination`,
  `messaging.temp_destination=True` em toda publicação, `net.peer.*`) e ignora
  OTEL_SEMCONV_STABILITY_OPT_IN;
- o span do consumidor é sempre filho do produtor, sem link: não dá para mostrar link × pai;
- e, decisivo aqui, ela injeta o contexto ATUAL de quem publica — no relay, o contexto do próprio
  relay. Com a outbox, o contexto certo é o de quem gravou a mensagem (a requisição POST /ordens, o
  consumidor que respondeu), que só nós sabemos: está na linha da outbox.
Desligar o span duplicado não resolveria nenhum dos outros três. Então: `propagate.inject` /
`propagate.extract` (W3C traceparent + baggage, os propagadores padrão) e os spans à mão, com os
nomes e atributos das convenções de mensageria atuais. Nenhum span do pika chega ao Jaeger.

Correlação: o `process` tem o `send` como PAI e como LINK (o padrão): o trace da compra fica um só,
do POST /ordens até a confirmação, e o link diz "esta mensagem veio daquele envio" — que é o que as
convenções recomendam para lotes e o que outras ferramentas mostram. Com MENSAGENS_SO_LINKS=true, só o
link: cada processamento começa um trace novo, ligado ao anterior (o que o OpenTelemetry Demo faz com
o Kafka). Nos dois modos o baggage atravessa (as falhas por requisição, `bookstore.falha`, também).
"""
import time

from opentelemetry import context, metrics, propagate, trace
from opentelemetry.trace import INVALID_SPAN, Link, SpanKind

from . import filas

tracer = trace.get_tracer("bookstore.mensageria")
meter = metrics.get_meter("bookstore.mensageria")

SISTEMA = "rabbitmq"
# O instante da publicação, em ns desde a época, posto pelo relay: o consumidor calcula quanto a
# mensagem esperou na fila. (O `timestamp` do AMQP tem resolução de segundos.)
CABECALHO_PUBLICADA_EM = "x-bookstore-publicada-em-ns"

tempo_na_fila = meter.create_histogram(
    "bookstore.mensagem.tempo_na_fila", unit="s",
    description="Da publicação (relay) ao início do processamento (consumidor), por destino",
    explicit_bucket_boundaries_advisory=[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                                         30, 60],
)
duracao_do_processamento = meter.create_histogram(
    "messaging.process.duration", unit="s",
    description="Duração do processamento de uma mensagem (convenções de mensageria)",
)
enviadas = meter.create_counter(
    "messaging.client.sent.messages", unit="{message}",
    description="Mensagens publicadas e confirmadas pelo broker (convenções de mensageria)",
)
consumidas = meter.create_counter(
    "messaging.client.consumed.messages", unit="{message}",
    description="Mensagens entregues ao consumidor (convenções de mensageria)",
)

# Profundidade das filas: lida pelo relay (que publica nelas) a cada segundo e observada aqui a cada
# exportação. Quem publica mede: com o consumidor parado, a fila dele continua medida.
_profundidades: dict[str, tuple[int, int]] = {}


def registrar_profundidade(fila: str, mensagens: int, consumidores: int) -> None:
    _profundidades[fila] = (mensagens, consumidores)


def _observar_profundidade(_opcoes):
    return [metrics.Observation(mensagens, {"messaging.system": SISTEMA, "messaging.destination.name": fila})
            for fila, (mensagens, _) in list(_profundidades.items())]


def _observar_consumidores(_opcoes):
    return [metrics.Observation(consumidores, {"messaging.system": SISTEMA, "messaging.destination.name": fila})
            for fila, (_, consumidores) in list(_profundidades.items())]


meter.create_observable_gauge(
    "bookstore.fila.profundidade", callbacks=[_observar_profundidade], unit="{message}",
    description="Mensagens prontas na fila, esperando consumidor (inclui as filas de mortas, .dlq)")
meter.create_observable_gauge(
    "bookstore.fila.consumidores", callbacks=[_observar_consumidores], unit="{consumer}",
    description="Consumidores ligados à fila")


def contexto_atual() -> dict:
    """O traceparent e o baggage de agora, para gravar com a mensagem na outbox."""
    portador: dict = {}
    propagate.inject(portador)
    return portador


def atributos(routing_key: str, destino: str, operacao: str, mensagem_id: str, conversa: str | None) -> dict:
    return {
        "messaging.system": SISTEMA,
        "messaging.operation.type": operacao,
        "messaging.operation.name": operacao,
        "messaging.destination.name": destino,
        "messaging.rabbitmq.destination.routing_key": routing_key,
        "messaging.message.id": mensagem_id,
        **({"messaging.message.conversation_id": conversa} if conversa else {}),
    }


class Envio:
    """`with Envio(linha, servidor) as cabecalhos:` o span `send`, no contexto gravado com a mensagem;
    `cabecalhos` leva o contexto DELE (o consumidor vira filho do envio, não da requisição)."""

    def __init__(self, linha: dict, servidor: tuple[str, int]):
        self.linha = linha
        self.servidor = servidor

    def __enter__(self) -> dict:
        linha = self.linha
        destino = filas.destino_do_envio(linha["destino"])
        # Pai = quem gravou (o baggage dele vem junto e segue nos cabeçalhos).
        self._token = context.attach(propagate.extract(linha["contexto"] or {}))
        self._span = tracer.start_span(
            f"send {destino}", kind=SpanKind.PRODUCER,
            attributes={**atributos(linha["destino"], destino, "send", str(linha["id"]), linha["conversa"]),
                        "server.address": self.servidor[0], "server.port": self.servidor[1],
                        "bookstore.mensagem.envio": linha["envios"] + 1,
                        # Quanto a mensagem esperou na outbox (o relay fora do ar, atrasado).
                        "bookstore.outbox.espera_ms": round(linha["espera_na_outbox_s"] * 1000, 1)})
        self._uso = trace.use_span(self._span, end_on_exit=True, record_exception=True, set_status_on_exception=True)
        self._uso.__enter__()
        cabecalhos = contexto_atual()
        cabecalhos[CABECALHO_PUBLICADA_EM] = time.time_ns()
        return cabecalhos

    def __exit__(self, *exc):
        try:
            self._uso.__exit__(*exc)
        finally:
            context.detach(self._token)
        if exc[0] is None:
            enviadas.add(1, {"messaging.system": SISTEMA, "messaging.destination.name":
                             filas.destino_do_envio(self.linha["destino"])})
        return False


def espera_em_segundos(cabecalhos: dict) -> float | None:
    publicada = (cabecalhos or {}).get(CABECALHO_PUBLICADA_EM)
    return max(0.0, (time.time_ns() - int(publicada)) / 1e9) if publicada else None


class Processamento:
    """`with Processamento(...) as span:` o span `process`, filho e com link do `send` (ou só link)."""

    def __init__(self, routing_key: str, fila: str, propriedades, entregas: int, so_links: bool):
        self.routing_key, self.fila = routing_key, fila
        self.propriedades = propriedades
        self.entregas = entregas
        self.so_links = so_links

    def __enter__(self):
        cabecalhos = self.propriedades.headers or {}
        recebido = propagate.extract(cabecalhos)
        envio = trace.get_current_span(recebido).get_span_context()
        links = [Link(envio, {"messaging.operation.type": "send"})] if envio.is_valid else []
        if self.so_links:
            # Sem pai (o span abre um trace novo), mas com o baggage de quem mandou.
            recebido = trace.set_span_in_context(INVALID_SPAN, recebido)
        self._token = context.attach(recebido)
        self.destino = filas.destino_do_processamento(self.routing_key, self.fila)
        self.espera = espera_em_segundos(cabecalhos)
        atributos_do_span = {
            **atributos(self.routing_key, self.destino, "process", self.propriedades.message_id or "",
                        self.propriedades.correlation_id),
            "bookstore.mensagem.entrega": self.entregas,
        }
        if self.espera is not None:
            atributos_do_span["bookstore.mensagem.espera_ms"] = round(self.espera * 1000, 1)
        self.inicio = time.perf_counter()
        self._span = tracer.start_span(f"process {self.destino}", kind=SpanKind.CONSUMER, links=links,
                                       attributes=atributos_do_span)
        self._uso = trace.use_span(self._span, end_on_exit=True, record_exception=True, set_status_on_exception=True)
        self._uso.__enter__()
        metricas = {"messaging.system": SISTEMA, "messaging.destination.name": self.destino}
        consumidas.add(1, metricas)
        if self.espera is not None:
            tempo_na_fila.record(self.espera, metricas)
        return self._span

    def __exit__(self, tipo, erro, rastro):
        metricas = {"messaging.system": SISTEMA, "messaging.operation.name": "process",
                    "messaging.destination.name": self.destino}
        if tipo is not None:
            metricas["error.type"] = tipo.__name__
        duracao_do_processamento.record(time.perf_counter() - self.inicio, metricas)
        try:
            self._uso.__exit__(tipo, erro, rastro)
        finally:
            context.detach(self._token)
        return False
