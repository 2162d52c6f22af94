"""O que o aluno faz no exercício 12 depois de trocar o amostrador (solucao.patch): 40 compras."""
from concurrent.futures import ThreadPoolExecutor

import requests

from autoteste.exercicios import Contexto
from autoteste.solucoes import Alteracao


def acoes(lab: Contexto) -> str:
    livro = requests.post(lab.urls["livros"] + "/livros", timeout=10,
                          json={"titulo": "Livro da amostragem", "preco": 10, "estoque": 100}).json()["id"]

    def comprar(_):
        return requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": livro, "quantidade": 1}]},
                             timeout=10).status_code

    with ThreadPoolExecutor(4) as executor:
        assert set(executor.map(comprar, range(40))) == {201}
    return ""


# O código da solução: `make solucoes` gera o .patch ao lado a partir daqui.
ALTERACOES = (
    Alteracao("otel.env", antes="""\
OTEL_TRACES_SAMPLER=parentbased_always_on
""", depois="""\
OTEL_TRACES_SAMPLER=parentbased_traceidratio
OTEL_TRACES_SAMPLER_ARG=0.2
"""),
)
