"""O que o aluno faz no exercício 02 depois de consertar a propagação (solucao.patch): comprar."""
import requests

from autoteste.exercicios import Contexto
from autoteste.solucoes import Alteracao


def acoes(lab: Contexto) -> str:
    resposta = requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 1, "quantidade": 1}]},
                             timeout=10)
    assert resposta.status_code == 201, resposta.text
    return ""


# O código: `make solucoes` gera quebra.patch e solucao.patch a partir daqui. A quebra e o conserto
# trocam o mesmo trecho de hoje (a cobrança); o conserto já inclui a quebra.
IMPORT = """\
import urllib3
"""
COBRANCA = """\
        status, corpo = self.chamar("POST", "/pagamentos", (200, 201, 409),
                                    data=simplejson.dumps({"ordem_id": ordem_id, "valor": valor, "cartao": cartao},
                                                          use_decimal=True),
                                    headers={"Content-Type": "application/json", "Idempotency-Key": chave})
"""
SEM_INSTRUMENTACAO = """\
        # Exercício 02: como se o cliente HTTP não tivesse instrumentação (um SDK de terceiros,
        # uma fila): a chamada sai sem span de cliente e sem o cabeçalho traceparent.
"""


def cobranca_sem_instrumentacao(cabecalhos: str) -> str:
    return """\
        with suppress_instrumentation():
            status, corpo = self.chamar("POST", "/pagamentos", (200, 201, 409),
                                        data=simplejson.dumps({"ordem_id": ordem_id, "valor": valor,
                                                               "cartao": cartao}, use_decimal=True),
                                        headers=%s)
""" % cabecalhos


QUEBRA = (
    Alteracao("ordens/clientes.py", antes=IMPORT, depois=IMPORT + """\
from opentelemetry.instrumentation.utils import suppress_instrumentation
"""),
    Alteracao("ordens/clientes.py", em="ClientePagamentos.cobrar", antes=COBRANCA, depois=SEM_INSTRUMENTACAO + cobranca_sem_instrumentacao(
        '{"Content-Type": "application/json", "Idempotency-Key": chave}')),
)
ALTERACOES = (
    Alteracao("ordens/clientes.py", antes=IMPORT, depois=IMPORT + """\
from opentelemetry import propagate
from opentelemetry.instrumentation.utils import suppress_instrumentation
"""),
    Alteracao("ordens/clientes.py", em="ClientePagamentos.cobrar", antes=COBRANCA, depois=SEM_INSTRUMENTACAO + """\
        cabecalhos = {"Content-Type": "application/json", "Idempotency-Key": chave}
        # O conserto: escrever o contexto atual (traceparent e baggage) nos cabeçalhos, à mão.
        propagate.inject(cabecalhos)
""" + cobranca_sem_instrumentacao("cabecalhos")),
)
