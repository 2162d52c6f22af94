"""Autoteste do exercício 02: o pagamento volta para o trace da compra, levado à mão."""
from autoteste.consultas import completa, compras, mais_recente
from autoteste.exercicios import Criterio
from telemetria_local.otlp import CLIENTE, SERVIDOR

TIPO = "codigo"


def conferir(fonte, resposta: str) -> list[Criterio]:
    grupos = compras(fonte.spans())
    ultima = mais_recente(grupos)
    por_id = {s["span_id"]: s for grupo in grupos.values() for s in grupo}
    pais_do_pagamento = [por_id.get(s["parent_id"], {}) for grupo in grupos.values() for s in grupo
                         if s["servico"] == "pagamentos" and s["kind"] == SERVIDOR and s["nome"] == "POST /pagamentos"]
    levado_a_mao = [pai for pai in pais_do_pagamento if pai.get("servico") == "ordens" and pai.get("kind") != CLIENTE]
    inteira = bool(ultima) and completa(ultima)
    return [
        Criterio(inteira,
                 "na compra mais recente, o pagamento está no mesmo trace (ordens, livros e pagamentos)",
                 "sem o traceparent, pagamentos começa um trace novo: escreva o contexto nos cabeçalhos com "
                 "propagate.inject(cabecalhos) antes da chamada, reinicie e compre de novo"),
        Criterio(bool(levado_a_mao),
                 "o contexto chegou a pagamentos sem a instrumentação do requests (pai: um span de ordens que não é de cliente)",
                 "primeiro quebre a propagação (passo 2: git apply exercises/02-propagacao/quebra.patch); o pai do "
                 "POST /pagamentos ainda é o span de cliente do requests" if inteira else "o mesmo conserto de cima"),
    ]
