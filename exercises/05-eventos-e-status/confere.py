"""Autoteste do exercício 05: a recusa vira evento com o motivo, e o span não vira ERROR."""
from autoteste.consultas import compras
from autoteste.exercicios import Criterio
from telemetria_local.otlp import STATUS_ERRO

TIPO = "codigo"
# Este exercício liga uma falha: ela não é estado de um exercício anterior (autoteste/estado.py).
LIGA_FALHAS = True


def conferir(fonte, resposta: str) -> list[Criterio]:
    spans = [s for grupo in compras(fonte.spans()).values() for s in grupo]
    recusas = [s for s in spans if s["nome"] == "pagamentos.decidir"
               and s["atributos"].get("bookstore.pagamento.status") == "recusado"]
    com_evento = [s for s in recusas if any(
        nome == "bookstore.pagamento.recusado" and atributos.get("bookstore.pagamento.motivo")
        for nome, atributos in s["eventos"])]
    return [
        Criterio(bool(recusas), f"há compra com o cartão recusado: {len(recusas)}",
                 "compre com o cartão 4000000000000002 (passo 3)"),
        Criterio(bool(com_evento), "pagamentos.decidir tem o evento bookstore.pagamento.recusado com o motivo",
                 "adicione o evento em pagamentos/rotas.py (passo 2) e reinicie o laboratório"),
        Criterio(bool(com_evento) and all(s["status"] != STATUS_ERRO for s in com_evento), "e o span não ficou ERROR",
                 "recusa é resultado de negócio: não chame set_status(ERROR) nela"),
    ]
