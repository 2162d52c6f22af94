"""O que o aluno faz no exercício 05 depois de aplicar o código (solucao.patch): comprar com o cartão recusado."""
import requests

from autoteste.exercicios import Contexto
from autoteste.solucoes import Alteracao


def acoes(lab: Contexto) -> str:
    resposta = requests.post(lab.urls["ordens"] + "/ordens", timeout=10, json={
        "itens": [{"livro_id": 6, "quantidade": 1}], "cartao": "4000000000000002"})
    assert resposta.status_code == 402
    return ""


# O código da solução: `make solucoes` gera o .patch ao lado a partir daqui.
ALTERACOES = (
    Alteracao("pagamentos/rotas.py", em="cobrar", antes="""\
                             "bookstore.pagamento.motivo": motivo or ""})
""", depois="""\
                             "bookstore.pagamento.motivo": motivo or ""})
        if status == "recusado":
            # Um evento marca o momento e o porquê; o status do span continua UNSET:
            # recusar é um resultado de negócio, não uma falha do serviço.
            span.add_event("bookstore.pagamento.recusado", {"bookstore.pagamento.motivo": motivo})
"""),
)
