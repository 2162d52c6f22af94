"""Instrumentos de métricas e o tracer da saga de ordens."""
from opentelemetry import metrics, trace

tracer = trace.get_tracer("ordens")
meter = metrics.get_meter("ordens")

ordens = meter.create_counter(
    "bookstore.ordens", unit="{ordem}",
    description="Ordens que chegaram a um status final (bookstore.ordem.status)",
)
valor = meter.create_histogram(
    "bookstore.ordem.valor", unit="{BRL}",
    description="Valor total das ordens concluídas",
)
