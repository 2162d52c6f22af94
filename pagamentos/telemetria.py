"""Instrumentos de métricas do serviço pagamentos."""
from opentelemetry import metrics

meter = metrics.get_meter("pagamentos")

pagamentos = meter.create_counter(
    "bookstore.pagamentos", unit="{pagamento}",
    description="Pagamentos por status (aprovado, recusado, estornado) e motivo",
)
# Histograma em float: é só medição; o valor cobrado continua Decimal no banco.
valor = meter.create_histogram(
    "bookstore.pagamento.valor", unit="{BRL}",
    description="Valor dos pagamentos cobrados, por status",
)
