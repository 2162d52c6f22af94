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
        resposta_http = requests.post(lab.urls["gateway"] + "/ordens",
                                      json={"itens": [{"livro_id": 1, "quantidade": 1}]}, timeout=20)
        assert resposta_http.status_code == 201, resposta_http.text
    # Num laboratório com compras de antes, as duas últimas só são estas depois que estas chegam.
    esperar(lambda: len(pelo_gateway(lab.fonte.spans())) >= antes + 2, 15, intervalo=0.3,
            descricao="as duas compras chegarem")
    return resposta(lab)


def resposta(lab: Contexto) -> str:
    """O que o aluno lê no trace da compra mais recente (passos 2 e 3): a porta no span do gateway e o
    começo do service.instance.id de ordens. Espera as duas compras do passo 1 chegarem inteiras: o
    trace só conta quando o span de ordens, com o recurso dele, já está no armazém."""
    def as_duas():
        grupos = list(pelo_gateway(lab.fonte.spans()).values())
        return grupos if len(grupos) >= 2 and all(atendimento(g)[1] for g in grupos[-2:]) else None
    porta, instancia = atendimento(esperar(as_duas, 15, intervalo=0.3, descricao="os dois traces chegarem")[-1])
    return f"{porta.rsplit(':', 1)[-1]} {instancia[:8]}"
