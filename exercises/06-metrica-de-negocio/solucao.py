"""O que o aluno faz no exercício 06 depois de aplicar o código (solucao.patch): comprar."""
import requests

from autoteste.exercicios import Contexto
from autoteste.solucoes import Alteracao


def acoes(lab: Contexto) -> str:
    itens = [{"livro_id": 1, "quantidade": 2}, {"livro_id": 4, "quantidade": 1}]
    assert requests.post(lab.urls["ordens"] + "/ordens", json={"itens": itens}, timeout=10).status_code == 201
    return ""


# O código da solução: `make solucoes` gera o .patch ao lado a partir daqui.
ALTERACOES = (
    Alteracao("ordens/saga.py", antes="""\
from .telemetria import tracer
""", depois="""\
from . import telemetria
from .telemetria import tracer
"""),
    Alteracao("ordens/saga.py", em="Saga.comprar", antes="""\
            return ordem_id, regras.CONCLUIDA.codigo_http
""", depois="""\
            for item in pedido.itens:
                telemetria.vendidos.add(item["quantidade"], {"bookstore.livro.id": item["livro_id"]})
            telemetria.itens_por_ordem.record(sum(item["quantidade"] for item in pedido.itens))
            return ordem_id, regras.CONCLUIDA.codigo_http
"""),
    Alteracao("ordens/telemetria.py", antes="""\
    description="Valor total das ordens concluídas",
)
""", depois="""\
    description="Valor total das ordens concluídas",
)
vendidos = meter.create_counter(
    "bookstore.livros.vendidos", unit="{exemplar}",
    description="Exemplares vendidos em compras concluídas, por livro (bookstore.livro.id)",
)
# Baldes para 1, 2, 3… exemplares: os padrão (0, 5, 10…) poriam toda compra em (0, 5].
itens_por_ordem = meter.create_histogram(
    "bookstore.ordem.exemplares", unit="{exemplar}",
    description="Quantos exemplares cada ordem concluída levou",
    explicit_bucket_boundaries_advisory=[1, 2, 3, 5, 10],
)
"""),
)
