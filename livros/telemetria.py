"""Instrumentos de métricas do serviço livros (os spans ficam junto do código que medem)."""
import logging
import weakref

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


# As apps cujo estoque o gauge observa: uma por worker em produção (várias nos
# testes). Um instrumento com o mesmo nome não pode ser criado duas vezes no
# mesmo meter — o SDK devolveria o primeiro e ignoraria o callback novo —,
# então o gauge é um só e consulta as apps registradas.
_apps = weakref.WeakSet()


def registrar_medidor_de_estoque(app) -> None:
    _apps.add(app)


def _observar_estoque(_opcoes):
    observacoes = []
    for app in list(_apps):
        try:
            # Sem spans: roda na thread do leitor de métricas, fora de qualquer requisição.
            with suppress_instrumentation(), db.transacao(app) as cursor:
                linhas = cursor.execute(
                    "SELECT id, estoque FROM livros_disponiveis ORDER BY id LIMIT 500").fetchall()
        except Exception as erro:  # banco fora do ar ou app encerrada: sem pontos desta vez
            logger.debug("estoque não observado: %s", erro)
            continue
        observacoes += [Observation(linha["estoque"], {"bookstore.livro.id": linha["id"]}) for linha in linhas]
    return observacoes


# `bookstore.livro.estoque`: lido do banco a cada exportação de métricas (e não a
# cada venda): é um gauge observável.
meter.create_observable_gauge(
    "bookstore.livro.estoque", callbacks=[_observar_estoque], unit="{exemplar}",
    description="Exemplares à venda por livro (sem os retidos por reservas ativas)",
)
