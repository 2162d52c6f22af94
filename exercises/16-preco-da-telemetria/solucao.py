"""O que o aluno faz no exercício 16: o make bench com a coluna amostrada, e a resposta lida na
saída. `lab.ambiente` é o de quem roda (a suíte passa uma carga pequena e uma pasta própria)."""
import re
import subprocess
import sys

from autoteste.exercicios import Contexto
from bookstore.config import RAIZ


def acoes(lab: Contexto) -> str:
    saida = subprocess.run([sys.executable, "-m", "ferramentas.bench"], cwd=RAIZ, capture_output=True, text=True,
                           env={**lab.ambiente, "BENCH_AMOSTRAGEM": "0.1"}, timeout=120, check=True).stdout
    return resposta(Contexto(urls={}, fonte=None, ambiente=lab.ambiente, saida=saida))


def resposta(lab: Contexto) -> str:
    """A razão que o aluno lê na saída do passo 3: o último bloco impresso é o de mais clientes."""
    return re.findall(r"amostrado 10% contra SDK desligado: vazão x([\d.]+)", lab.saida)[-1]
