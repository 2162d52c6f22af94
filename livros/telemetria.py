"""Instrumentos de métricas do serviço livros (os spans ficam junto do código que medem)."""
import logging

from opentelemetry import metrics
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import Observation

from bookstore import db

logger = logging.getLogger(__name__)
meter = metrics.get_meter("livros")

reservas = meter.create_counter(
    "bookstore.reservas", unit="{reserva}",
    description="Pedidos de reserva e seus desfechos (bookstore.reserva.resultado)",
)


def registrar_medidor_de_estoque(app) -> None:
    """`bookstore.livro.estoque`: o estoque vendável de cada livro, lido do banco
    a cada exportação de métricas (e não a cada venda: é um gauge observável)."""

    def observar(_opcoes):
        try:
            # Sem spans: roda na thread do leitor de métricas, fora de qualquer requisição.
            with suppress_instrumentation(), db.transacao(app) as cursor:
                linhas = cursor.execute(
                    "SELECT id, estoque FROM livros_disponiveis ORDER BY id LIMIT 500").fetchall()
        except Exception as erro:  # banco fora do ar ou app encerrada: sem pontos desta vez
            logger.debug("estoque não observado: %s", erro)
            return []
        return [Observation(linha["estoque"], {"bookstore.livro.id": linha["id"]}) for linha in linhas]

    meter.create_observable_gauge(
        "bookstore.livro.estoque", callbacks=[observar], unit="{exemplar}",
        description="Exemplares à venda por livro (sem os retidos por reservas ativas)",
    )
