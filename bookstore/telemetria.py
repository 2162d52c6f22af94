"""OpenTelemetry dos três serviços: um módulo só, configurado só por OTEL_*.

Duas partes, chamadas em momentos diferentes:

- `configurar(servico)` cria os providers (traces, métricas, logs) com
  exportadores OTLP. Roda no hook `post_fork` do gunicorn — em cada worker,
  NUNCA no master. Por quê: os processadores em lote e o leitor periódico de
  métricas têm threads, e os canais gRPC têm estado de rede; nada disso
  sobrevive bem a um fork. Criados depois do fork, cada worker tem os seus, e
  cada um ganha o próprio `service.instance.id` (o SDK sorteia um UUID por
  processo), então no Jaeger dá para ver qual worker atendeu cada requisição.
- `instrumentar_app(app)` liga a instrumentação automática (Flask, requests,
  psycopg) na aplicação. Roda dentro de `create_app`, antes do pool do banco.

Se o Collector cair ou ficar lento, nada aqui atrasa uma requisição: os spans
vão para filas limitadas (OTEL_BSP_MAX_QUEUE_SIZE) esvaziadas por uma thread
com timeout de exportação; cheia a fila, o SDK descarta e avisa.
"""
import logging
import sys
import threading
import time

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import DropAggregation, View
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from . import config
from .config import ConfiguracaoInvalida
# Health checks e readiness são chamados o tempo todo e não explicam nada;
# a documentação da API (/openapi.json, /docs) não é negócio.
URLS_SEM_SPAN = "/health$,/ready$,/openapi.json$,/docs"
FORMATO_DO_LOG = ("%(asctime)s %(levelname)-7s [%(otelServiceName)s] "
                  "[trace_id=%(otelTraceID)s span_id=%(otelSpanID)s] %(name)s: %(message)s")

# Views: configuração pública do SDK para o que as métricas agregam. A instrumentação
# do Flask mede `http.server.active_requests` (+1 e -1 em toda requisição, com seus
# atributos); com workers síncronos ele vale sempre 0 ou 1 por worker e nada no
# laboratório o usa — a aba Monitor e os exercícios leem a duração. Descartá-lo tira
# esse trabalho de cada requisição (medido em docs/custo-da-telemetria.md).
VIEWS = [View(instrument_name="http.server.active_requests", aggregation=DropAggregation())]

# Ao sair, cada worker tem até isto para mandar o que está nas filas (ver encerrar()).
PRAZO_PARA_ESVAZIAR_SEGUNDOS = 2.0

_providers: list = []
_exportadores: list = []


FORMATO_DO_LOG_SEM_TRACE = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def sdk_desligado() -> bool:
    return config.ler("OTEL_SDK_DISABLED").strip().lower() == "true"


def instrumentacao_desligada(nome: str) -> bool:
    """OTEL_PYTHON_DISABLED_INSTRUMENTATIONS, com o sentido que tem no
    `opentelemetry-instrument`: lista de nomes (flask, requests, psycopg,
    logging) ou `*` para todas. Uma instrumentação desligada nunca é instalada:
    nem o SDK desligado custa tão pouco (OTEL_SDK_DISABLED ainda deixa os
    wrappers de cada biblioteca no caminho). É o "zero de verdade" do make bench."""
    desligadas = {item.strip() for item in config.ler("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS").split(",")}
    return "*" in desligadas or nome in desligadas


def protocolo(sinal: str) -> str:
    """OTEL_EXPORTER_OTLP_<SINAL>_PROTOCOL ou OTEL_EXPORTER_OTLP_PROTOCOL.

    Os exportadores não leem esta variável sozinhos (só a autoconfiguração do
    `opentelemetry-instrument` lê); quem monta os providers à mão lê aqui."""
    valor = config.ler(f"OTEL_EXPORTER_OTLP_{sinal}_PROTOCOL") or config.ler("OTEL_EXPORTER_OTLP_PROTOCOL")
    if valor not in ("http/protobuf", "grpc"):
        raise ConfiguracaoInvalida(f"OTEL_EXPORTER_OTLP_PROTOCOL={valor!r}: use http/protobuf ou grpc")
    return valor


def _criar_exportadores():
    """Os três exportadores OTLP; cada um lê endpoint, headers, timeout e
    compressão das variáveis OTEL_EXPORTER_OTLP_* por conta própria."""
    if protocolo("TRACES") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    if protocolo("METRICS") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    if protocolo("LOGS") == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    else:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    return OTLPSpanExporter(), OTLPMetricExporter(), OTLPLogExporter()


def recurso(servico: str) -> Resource:
    """Nossos padrões, com OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES por cima. O
    `deployment.environment.name` vem de OTEL_RESOURCE_ATTRIBUTES, em otel.env: o mesmo lugar
    serve ao serviço sob o opentelemetry-instrument (exercício 03), que não passa por aqui."""
    padroes = Resource.create({
        "service.name": servico,
        "service.namespace": "bookstore",
        "service.version": config.VERSAO,
    })
    return padroes.merge(OTELResourceDetector().detect())


def configurar_logs_em_texto() -> None:
    """Uma linha legível por registro no stdout, com o trace_id (para o
    `docker compose logs` e para o terminal do `make local`)."""
    saida = logging.StreamHandler(sys.stdout)
    if instrumentacao_desligada("logging"):
        saida.setFormatter(logging.Formatter(FORMATO_DO_LOG_SEM_TRACE))
    else:
        if not LoggingInstrumentor().is_instrumented_by_opentelemetry:
            LoggingInstrumentor().instrument(inject_trace_context=True, enable_log_auto_instrumentation=False)
        saida.setFormatter(logging.Formatter(FORMATO_DO_LOG))
    raiz = logging.getLogger()
    raiz.addHandler(saida)
    raiz.setLevel(config.ler("LOG_LEVEL").upper())
    # O pika narra cada passo de cada conexão em INFO (uns quinze registros por mensageiro ao subir) e cada
    # tentativa de reconexão em ERROR, com traceback: no terminal, isso esconde o resumo do make local e as
    # linhas que importam. O relay e o consumidor dizem numa linha só quando a conexão cai e quando volta
    # (bookstore/mensageria/conexao.py); do pika fica o que é crítico.
    logging.getLogger("pika").setLevel(logging.CRITICAL)


def configurado_pelo_zero_code() -> bool:
    """O `opentelemetry-instrument` (exercício 03) já criou os providers e instrumentou as
    bibliotecas no master, antes do fork, a partir das variáveis OTEL_*. Configurar de novo
    duplicaria tudo; o laboratório só põe o trace_id no log de texto, e o resto é dele."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def configurar(servico: str) -> None:
    """Cria os providers deste processo. Chamar uma vez, depois do fork."""
    if sdk_desligado() or configurado_pelo_zero_code():
        configurar_logs_em_texto()
        return
    exportador_spans, exportador_metricas, exportador_logs = _criar_exportadores()
    dono = recurso(servico)

    # Amostragem: OTEL_TRACES_SAMPLER(_ARG), lidos pelo próprio TracerProvider.
    tracer_provider = TracerProvider(resource=dono)
    # Lote a cada OTEL_BSP_SCHEDULE_DELAY ms (o laboratório usa 1000: o trace
    # aparece no Jaeger ~1 s depois da compra), fila limitada a OTEL_BSP_MAX_QUEUE_SIZE.
    tracer_provider.add_span_processor(BatchSpanProcessor(exportador_spans))
    trace.set_tracer_provider(tracer_provider)

    # Intervalo: OTEL_METRIC_EXPORT_INTERVAL (ms).
    meter_provider = MeterProvider(resource=dono, views=VIEWS,
                                   metric_readers=[PeriodicExportingMetricReader(exportador_metricas)])
    metrics.set_meter_provider(meter_provider)

    logger_provider = LoggerProvider(resource=dono)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(exportador_logs))
    set_logger_provider(logger_provider)

    configurar_logs_em_texto()
    if not instrumentacao_desligada("logging"):
        # O handler que transforma registros do `logging` em logs OTLP (com trace_id/span_id).
        from opentelemetry.instrumentation.logging.handler import LoggingHandler
        logging.getLogger().addHandler(LoggingHandler(logger_provider=logger_provider))
    _providers[:] = [tracer_provider, meter_provider, logger_provider]
    _exportadores[:] = [exportador_spans, exportador_metricas, exportador_logs]


def encerrar(prazo_segundos: float = PRAZO_PARA_ESVAZIAR_SEGUNDOS) -> None:
    """Esvazia as filas e para as threads (hook `worker_exit` do gunicorn):
    o que estava no buffer de um worker que sai não se perde.

    Com prazo. O `shutdown()` dos processadores em lote espera até 30 s, e o
    exportador, com o Collector fora do ar, fica tentando de novo até o seu
    timeout — sem prazo, o Ctrl-C do make local levaria ~25 s. Os três
    sinais esvaziam em paralelo; quem passar do prazo tem o exportador
    desligado, o que interrompe a espera entre tentativas (API pública do
    exportador) e libera o worker. O que não saiu até lá se perde, e só isso."""
    fim = time.monotonic() + prazo_segundos
    threads = [threading.Thread(target=provider.shutdown, daemon=True) for provider in _providers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, fim - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        # Uma linha nossa no lugar de dezenas de avisos do exportador sobre a mesma coisa.
        logging.getLogger("opentelemetry.exporter").setLevel(logging.CRITICAL)
        logging.getLogger(__name__).warning(
            "telemetria: o destino OTLP não respondeu em %.0f s; o que ainda estava na fila foi descartado",
            prazo_segundos)
        for exportador in _exportadores:
            exportador.shutdown()
        for thread in threads:
            thread.join(0.5)
    _providers.clear()
    _exportadores.clear()


def instrumentar_app(app) -> None:
    if not instrumentacao_desligada("flask") and not FlaskInstrumentor().is_instrumented_by_opentelemetry:
        excluidas = ",".join(filter(None, [config.ler("OTEL_PYTHON_FLASK_EXCLUDED_URLS"), URLS_SEM_SPAN]))
        FlaskInstrumentor().instrument_app(app, excluded_urls=excluidas)
    # Globais: instrumentam a biblioteca uma vez por processo.
    if not instrumentacao_desligada("requests") and not RequestsInstrumentor().is_instrumented_by_opentelemetry:
        RequestsInstrumentor().instrument()
    if not instrumentacao_desligada("psycopg") and not PsycopgInstrumentor().is_instrumented_by_opentelemetry:
        # Sem capture_parameters: os parâmetros podem ter dados pessoais.
        PsycopgInstrumentor().instrument()
