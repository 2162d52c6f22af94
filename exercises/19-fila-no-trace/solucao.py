"""O que o aluno faz no exercício 19: uma compra por mensagens, o trace dela e a espera da cobrança."""
import requests

from autoteste.consultas import esperar_compra, processamentos
from autoteste.exercicios import Contexto


def acoes(lab: Contexto) -> str:
    resposta = requests.post(lab.urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 2, "quantidade": 1}]},
                             timeout=10)
    assert resposta.status_code == 202, resposta.text
    trace_id = esperar_compra(lab.fonte, lambda grupo: processamentos(grupo, "pagamentos.cobrar")
                              and len(processamentos(grupo)) == 6, 20)
    grupo = [s for s in lab.fonte.spans() if s["trace_id"] == trace_id]
    return f"{trace_id} {processamentos(grupo, 'pagamentos.cobrar')[0]['atributos']['bookstore.mensagem.espera_ms']}"
