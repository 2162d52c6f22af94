"""Atalhos HTTP para os testes que falam com serviços de verdade."""
from decimal import Decimal

import requests
import simplejson

CARTAO_APROVADO = "4111111111111111"
CARTAO_RECUSADO = "4000000000000002"


def json_de(resposta: requests.Response):
    return simplejson.loads(resposta.content, use_decimal=True)


def criar_livro(lab, preco="39.90", estoque=5, titulo="Livro de Teste") -> int:
    corpo = simplejson.dumps({"titulo": titulo, "preco": Decimal(preco), "estoque": estoque}, use_decimal=True)
    resposta = requests.post(lab.url("livros") + "/livros", data=corpo, timeout=5)
    assert resposta.status_code == 201, resposta.text
    return resposta.json()["id"]


def estoque(lab, livro_id: int) -> int:
    return requests.get(f"{lab.url('livros')}/livros/{livro_id}", timeout=5).json()["estoque"]


def reservas_da_ordem(lab, ordem_id: int) -> list[dict]:
    return requests.get(f"{lab.url('livros')}/reservas?ordem_id={ordem_id}", timeout=5).json()


def pagamentos_da_ordem(lab, ordem_id: int) -> list[dict]:
    return json_de(requests.get(f"{lab.url('pagamentos')}/pagamentos?ordem_id={ordem_id}", timeout=5))


def injetar_falha(lab, servico: str, latencia_ms: int = 0, taxa_erro: float = 0) -> None:
    resposta = requests.put(f"{lab.url(servico)}/admin/falhas",
                            json={"latencia_ms": latencia_ms, "taxa_erro": taxa_erro}, timeout=5)
    assert resposta.status_code == 200, resposta.text
