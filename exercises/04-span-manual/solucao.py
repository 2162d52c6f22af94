"""O que o aluno faz no exercício 04 depois de aplicar o código (solucao.patch): comprar."""
import requests

from autoteste.exercicios import Contexto
from autoteste.solucoes import Alteracao


def acoes(lab: Contexto) -> str:
    itens = [{"livro_id": 1, "quantidade": 1}, {"livro_id": 4, "quantidade": 1}]
    assert requests.post(lab.urls["ordens"] + "/ordens", json={"itens": itens}, timeout=10).status_code == 201
    return ""


# O código da solução: `make solucoes` gera o .patch ao lado a partir daqui.
ALTERACOES = (
    Alteracao("ordens/saga.py", em="Saga.comprar", antes="""\
                seguir(repositorio.registrar_reserva(ordem_id, reserva))
""", depois="""\
                with tracer.start_as_current_span("saga.gravar_reserva",
                                                  attributes={"bookstore.reserva.itens": len(reserva["itens"])}):
                    seguir(repositorio.registrar_reserva(ordem_id, reserva))
"""),
)
