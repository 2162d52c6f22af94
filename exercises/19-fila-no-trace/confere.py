"""Autoteste do exercício 19: a compra por mensagens é um trace só, e o aluno leu quanto a cobrança
esperou na fila de pagamentos."""
from autoteste.consultas import compras, envios, problema_do_id, processamentos, trace_informado
from autoteste.exercicios import Criterio
from bookstore import topologia

TIPO = "mensagens"
COBRAR = "pagamentos.cobrar"


def conferir(fonte, resposta: str) -> list[Criterio]:
    partes = resposta.split()
    grupos = compras(fonte.spans())
    problema = problema_do_id(partes[0] if partes else "", grupos)
    if problema:  # sem o trace, os outros critérios só dariam dicas de outro problema
        return [Criterio(False, "o trace informado é de uma compra",
                         f"{problema}. make confere EX=19 RESPOSTA='<trace_id> <ms>'")]
    grupo = trace_informado(partes[0], grupos)
    pares = processamentos(grupo or [])
    ids_dos_envios = {s["span_id"] for s in envios(grupo or [])}
    cobranca = processamentos(grupo or [], COBRAR)
    espera = cobranca[0]["atributos"].get("bookstore.mensagem.espera_ms") if cobranca else None
    try:
        respondida = float(partes[1].replace(",", ".").removesuffix("ms")) if len(partes) > 1 else None
    except ValueError:
        respondida = None
    # A tolerância separa o span certo do vizinho (o `send` tem bookstore.outbox.espera_ms, outro número) e
    # aceita o valor arredondado que o aluno leu: 0,1 ms ou 5%.
    certa = espera is not None and respondida is not None and abs(respondida - espera) <= max(0.1, espera * 0.05)
    return [
        Criterio(grupo is not None, "o trace informado é de uma compra",
                 "make confere EX=19 RESPOSTA='<trace_id> <ms>' com o id de `make traces` (8+ caracteres)"),
        Criterio(bool(pares) and {s["servico"] for s in pares} >= set(topologia.SERVICOS),
                 "ela passou pelas filas: spans `process` em livros, pagamentos e ordens, no mesmo trace",
                 "suba o laboratório com ORDENS_SAGA=mensagens make local e compre de novo (passo 1)"),
        Criterio(bool(pares) and all(s["parent_id"] in ids_dos_envios for s in pares),
                 "cada `process` é filho do `send` da mesma mensagem (o contexto atravessou o broker)",
                 "o laboratório está com MENSAGENS_SO_LINKS=true? Este exercício é com o padrão (pai e link)"),
        Criterio(certa, f"a espera da cobrança na fila: {espera:g} ms" if certa else
                 f"a espera da cobrança na fila (você respondeu {respondida if respondida is not None else '—'} ms)",
                 f"no span `process bookstore:{COBRAR}:pagamentos.comandos`, o atributo bookstore.mensagem.espera_ms "
                 "(não o bookstore.outbox.espera_ms do `send`: esse é o tempo na outbox)"),
    ]
