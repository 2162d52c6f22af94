"""Autoteste do exercício 19: a compra por mensagens é um trace só, e o aluno leu quanto a cobrança
esperou na fila de pagamentos."""
from autoteste.consultas import compras, envios, processamentos, trace_informado
from autoteste.exercicios import Criterio
from bookstore import topologia

TIPO = "mensagens"
COBRAR = "pagamentos.cobrar"


def conferir(fonte, resposta: str) -> list[Criterio]:
    partes = resposta.split()
    grupo = trace_informado(partes[0], compras(fonte.spans())) if partes else None
    pares = processamentos(grupo or [])
    ids_dos_envios = {s["span_id"] for s in envios(grupo or [])}
    cobranca = processamentos(grupo or [], COBRAR)
    espera = cobranca[0]["atributos"].get("bookstore.mensagem.espera_ms") if cobranca else None
    try:
        respondida = float(partes[1].replace(",", ".").removesuffix("ms")) if len(partes) > 1 else None
    except ValueError:
        respondida = None
    return [
        Criterio(grupo is not None, "o trace informado é de uma compra",
                 "make confere EX=19 RESPOSTA='<trace_id> <ms>' com o id de `make traces` (8+ caracteres)"),
        Criterio(bool(pares) and {s["servico"] for s in pares} >= set(topologia.SERVICOS),
                 "ela passou pelas filas: spans `process` em livros, pagamentos e ordens, no mesmo trace",
                 "suba o laboratório com ORDENS_SAGA=mensagens make local e compre de novo (passo 1)"),
        Criterio(bool(pares) and all(s["parent_id"] in ids_dos_envios for s in pares),
                 "cada `process` é filho do `send` da mesma mensagem (o contexto atravessou o broker)",
                 "o laboratório está com MENSAGENS_SO_LINKS=true? Este exercício é com o padrão (pai e link)"),
        Criterio(espera is not None and respondida is not None and abs(respondida - espera) <= max(1.0, espera * 0.1),
                 f"a espera da cobrança na fila: {espera if espera is not None else '—'} ms "
                 f"(você respondeu {respondida if respondida is not None else '—'})",
                 f"no span `process bookstore:{COBRAR}:pagamentos.comandos`, o atributo bookstore.mensagem.espera_ms"),
    ]
