"""O que o aluno faz no exercício 18: carga pelo gateway, SIGKILL no master de uma réplica de ordens
no meio dela, e a carga segue; a resposta é a réplica morta, como o span do gateway a mostra."""
import os
import signal
import threading
import time
from contextlib import contextmanager

import requests

from autoteste.consultas import esperar, pelo_gateway, replica
from autoteste.exercicios import Contexto
from supervisao.portas import quem_usa_a_porta
from telemetria_local.traces import raiz

SEGUNDOS_DEPOIS = 10


@contextmanager
def carga_pelo_gateway(lab: Contexto):
    """Passo 2: o `make carga BASE_URL=…` do README, em miniatura (3 compradores, enquanto durar o
    `with`). Entra depois que as duas réplicas de ordens atenderam compras — os "uns 10 s" do passo 3,
    para a réplica que vai morrer ter spans no gateway — e devolve elas, da porta menor à maior. A suíte
    a usa também ao fazer o exercício pelo README (o bloco do make carga não roda nela: 90 s)."""
    livro = requests.post(lab.urls["gateway"] + "/livros", json={"titulo": "Livro da réplica morta", "preco": 10,
                                                                  "estoque": 100_000}, timeout=10).json()["id"]
    parar = threading.Event()

    def comprar():
        sessao = requests.Session()
        while not parar.is_set():
            try:
                sessao.post(lab.urls["gateway"] + "/ordens", json={"itens": [{"livro_id": livro, "quantidade": 1}]},
                            timeout=20)
            except requests.RequestException:
                pass  # a compra que estava na réplica no instante do SIGKILL

    compradores = [threading.Thread(target=comprar) for _ in range(3)]
    for thread in compradores:
        thread.start()
    try:
        def as_duas():
            vistas = {replica(raiz(g)) for g in pelo_gateway(lab.fonte.spans()).values()}
            return sorted(vistas, key=lambda r: int(r.rsplit(":", 1)[1])) if len(vistas) >= 2 else None
        yield esperar(as_duas, 15, intervalo=0.3, descricao="compras nas duas réplicas de ordens")
    finally:
        parar.set()
        for thread in compradores:
            thread.join()


def acoes(lab: Contexto) -> str:
    with carga_pelo_gateway(lab) as replicas:
        # Passo 3: a segunda réplica (a de porta maior) e o pid de quem escuta na porta dela: o master
        # do gunicorn (o primeiro em /proc, o de menor pid; os workers morrem junto).
        alvo = replicas[-1]
        dono = quem_usa_a_porta(int(alvo.rsplit(":", 1)[1]))
        os.kill(int(dono.split()[1].rstrip(":")), signal.SIGKILL)
        time.sleep(SEGUNDOS_DEPOIS)
    time.sleep(2)  # o último lote de spans
    return alvo
