"""O que o aluno faz no exercício 09 (a suíte roda isto para provar que o autoteste passa)."""
import time
from pathlib import Path

import requests

from autoteste.consultas import compras
from autoteste.exercicios import carregar

compensada_por_pagamentos = carregar(Path(__file__).parent).compensada_por_pagamentos


def acoes(urls: dict, fonte) -> str:
    requests.put(urls["pagamentos"] + "/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 1}, timeout=5)
    try:
        resposta = requests.post(urls["ordens"] + "/ordens", json={"itens": [{"livro_id": 4, "quantidade": 1}]},
                                 timeout=15)
        assert resposta.status_code == 503 and resposta.json()["motivo"] == "pagamentos_indisponivel"
    finally:
        requests.put(urls["pagamentos"] + "/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 0}, timeout=5)
    fim = time.monotonic() + 15
    while time.monotonic() < fim:
        achadas = [t for t, grupo in compras(fonte.spans()).items() if compensada_por_pagamentos(grupo)]
        if achadas:
            return achadas[-1]
        time.sleep(0.3)
    raise AssertionError("o trace da compra compensada não chegou")
