"""O que o aluno faz no exercício 17: duas compras pelo gateway e, no trace da mais recente, a réplica
(span do gateway) e o processo (service.instance.id de ordens)."""
from pathlib import Path

import requests

from autoteste.consultas import esperar, pelo_gateway
from autoteste.exercicios import Contexto, carregar

atendimento = carregar(Path(__file__).parent).atendimento


def acoes(lab: Contexto) -> str:
    antes = len(pelo_gateway(lab.fonte.spans()))
    for _ in range(2):
        resposta = requests.post(lab.urls["gateway"] + "/ordens", json={"itens": [{"livro_id": 1, "quantidade": 1}]},
                                 timeout=20)
        assert resposta.status_code == 201, resposta.text

    def as_duas():
        grupos = list(pelo_gateway(lab.fonte.spans()).values())
        return grupos if len(grupos) >= antes + 2 and all(atendimento(g)[1] for g in grupos[-2:]) else None
    porta_e_instancia = atendimento(esperar(as_duas, 15, intervalo=0.3, descricao="os dois traces chegarem")[-1])
    return f"{porta_e_instancia[0].rsplit(':', 1)[-1]} {porta_e_instancia[1][:8]}"
