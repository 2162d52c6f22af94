"""O que o aluno faz no exercício 22: com a consulta antifraude da quebra e o contexto levado à thread
(solucao.patch), uma compra pelo broker."""
import requests

from autoteste.exercicios import Contexto
from autoteste.solucoes import Alteracao


def acoes(lab: Contexto) -> str:
    feita = requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 4, "quantidade": 1}]},
                          timeout=10)
    assert feita.status_code == 202, feita.text
    return ""


# O código: `make solucoes` gera quebra.patch e solucao.patch a partir daqui. A quebra acrescenta ao
# consumidor de pagamentos uma consulta antifraude numa thread; o conserto (que já inclui a quebra)
# leva o contexto até ela.
IMPORTS = """\
from decimal import Decimal
"""
OPENTELEMETRY = """\
from opentelemetry import trace
"""
TRAVA = """\
LOCK_DA_ORDEM = 4_242_103
"""
DECISAO = """\
        status, motivo = _decidir(ordem_id, valor, final)
"""
EXECUTOR = """\

# Exercício 22: a consulta antifraude roda numa thread só dela — `result(timeout=…)` põe um prazo numa
# chamada que não tem o seu. Sem resposta no prazo, a mensagem volta para a fila (como com o banco fora).
_antifraude = ThreadPoolExecutor(max_workers=2, thread_name_prefix="antifraude")
PRAZO_DO_ANTIFRAUDE_SEGUNDOS = 2
"""


def avaliacao(parametros: str, abertura: str) -> str:
    return f'''

def _avaliar_risco({parametros}) -> float:
    """A consulta antifraude: por enquanto só anota o risco no span; quem decide segue sendo aprovacao.py."""
    with {abertura} as span:
        risco = min(1.0, float(valor) / 1000)
        span.set_attributes({{"bookstore.ordem.id": ordem_id, "bookstore.antifraude.risco": risco}})
        return risco
'''


QUEBRA = (
    Alteracao("pagamentos/mensagens.py", antes=IMPORTS, depois="""\
from concurrent.futures import ThreadPoolExecutor
""" + IMPORTS),
    Alteracao("pagamentos/mensagens.py", antes=TRAVA, depois=TRAVA + EXECUTOR + avaliacao(
        "ordem_id: int, valor: Decimal", 'tracer.start_as_current_span("pagamentos.antifraude")')),
    Alteracao("pagamentos/mensagens.py", em="cobrar", antes=DECISAO, depois="""\
        _antifraude.submit(_avaliar_risco, ordem_id, valor).result(timeout=PRAZO_DO_ANTIFRAUDE_SEGUNDOS)
""" + DECISAO),
)
ALTERACOES = (
    QUEBRA[0],
    Alteracao("pagamentos/mensagens.py", antes=OPENTELEMETRY, depois="""\
from opentelemetry import context, trace
"""),
    Alteracao("pagamentos/mensagens.py", antes=TRAVA, depois=TRAVA + EXECUTOR + avaliacao(
        "contexto, ordem_id: int, valor: Decimal",
        'tracer.start_as_current_span("pagamentos.antifraude", context=contexto)')),
    Alteracao("pagamentos/mensagens.py", em="cobrar", antes=DECISAO, depois="""\
        # O conserto: a thread do antifraude não herda o contexto desta (o span `process` da mensagem);
        # ele vai junto, como argumento.
        _antifraude.submit(_avaliar_risco, context.get_current(), ordem_id, valor).result(
            timeout=PRAZO_DO_ANTIFRAUDE_SEGUNDOS)
""" + DECISAO),
)
