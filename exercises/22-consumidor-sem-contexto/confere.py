"""Autoteste do exercício 22: a consulta antifraude, que roda numa thread do consumidor de pagamentos,
volta para o trace da compra — filha do `process` da cobrança.

No código de hoje não há consulta antifraude: o exercício começa pela quebra (passo 2), que a traz
sem o contexto. Por isso o segundo critério falha antes do exercício, e o terceiro depois da quebra."""
from autoteste.consultas import compras, mais_recente, processamentos
from autoteste.exercicios import Criterio

TIPO = "mensagens"
ANTIFRAUDE = "pagamentos.antifraude"
COBRAR = "pagamentos.cobrar"


def conferir(fonte, resposta: str) -> list[Criterio]:
    spans = fonte.spans()
    compra = mais_recente(compras(spans))
    cobranca = {s["span_id"] for s in processamentos(compra, COBRAR)}
    no_trace = [s for s in compra if s["nome"] == ANTIFRAUDE]
    soltos = [s for s in spans if s["nome"] == ANTIFRAUDE and not s["parent_id"]]
    return [
        Criterio(bool(cobranca),
                 "a compra mais recente foi cobrada pela fila (o `process` de pagamentos.cobrar está no trace dela)",
                 "suba com ORDENS_SAGA=mensagens make local (sem MENSAGENS_SO_LINKS=true, o do 20) e compre "
                 "(passo 1)"),
        Criterio(bool(no_trace or soltos), "a consulta antifraude rodou (há spans pagamentos.antifraude)",
                 "aplique a quebra (git apply exercises/22-consumidor-sem-contexto/quebra.patch), reinicie e "
                 "compre (passo 2)"),
        Criterio(bool(no_trace) and all(s["parent_id"] in cobranca for s in no_trace),
                 "o pagamentos.antifraude está no trace da compra, filho do `process` da cobrança",
                 f"{len(soltos)} pagamentos.antifraude começaram um trace próprio: a thread não herda o contexto; "
                 "passe context.get_current() a ela e abra o span com context=… (passo 3), reinicie e compre"),
    ]
