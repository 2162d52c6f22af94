"""Autoteste do exercício 22: a consulta antifraude, que roda numa thread do consumidor de pagamentos,
volta para o trace da compra — filha do `process` da cobrança.

No código de hoje não há consulta antifraude: o exercício começa pela quebra (passo 2), que a traz
sem o contexto. Por isso o segundo critério falha antes do exercício, e o terceiro depois da quebra."""
from autoteste.consultas import compras, mais_recente, processamentos
from autoteste.exercicios import Criterio
from bookstore.config import RAIZ
from telemetria_local.otlp import STATUS_ERRO

TIPO = "mensagens"
ANTIFRAUDE = "pagamentos.antifraude"
COBRAR = "pagamentos.cobrar"


def excecoes(spans: list[dict]) -> list[str]:
    """`TipoDoErro: mensagem` de cada exceção gravada nestes spans (record_exception do consumidor)."""
    return [f"{atributos.get('exception.type', '?')}: {atributos.get('exception.message', '')}"
            for s in spans for nome, atributos in s["eventos"] if nome == "exception"]


def conferir(fonte, resposta: str) -> list[Criterio]:
    spans = fonte.spans()
    compra = mais_recente(compras(spans))
    tentativas = processamentos(compra, COBRAR)
    cobranca = {s["span_id"] for s in tentativas if s["status"] != STATUS_ERRO}
    morta = any(s["atributos"].get("bookstore.mensagem.morta") for s in tentativas)
    erros = excecoes(tentativas)
    no_trace = [s for s in compra if s["nome"] == ANTIFRAUDE]
    soltos = [s for s in spans if s["nome"] == ANTIFRAUDE and not s["parent_id"]]
    quebra_aplicada = "_antifraude" in (RAIZ / "pagamentos" / "mensagens.py").read_text(encoding="utf-8")
    if erros:  # a cobrança falhou antes da consulta: dizer isso, não mandar aplicar de novo a quebra
        sem_antifraude = (f"a cobrança falhou antes da consulta ({erros[-1]})"
                          + (", em todas as entregas: a mensagem foi para a fila de mortas" if morta else "")
                          + " — se é um TypeError, a chamada em `cobrar` ainda passa os argumentos de antes "
                            "(o último bloco do passo 3); conserte, reinicie e compre de novo")
    elif quebra_aplicada:
        sem_antifraude = "a quebra está aplicada, mas o laboratório ainda roda o código de antes: reinicie e compre (passo 2)"
    else:
        sem_antifraude = ("aplique a quebra (git apply exercises/22-consumidor-sem-contexto/quebra.patch), reinicie e "
                          "compre (passo 2)")
    return [
        Criterio(bool(cobranca),
                 "a compra mais recente foi cobrada pela fila (o `process` de pagamentos.cobrar está no trace dela, "
                 "sem erro)",
                 sem_antifraude if tentativas else
                 "suba com ORDENS_SAGA=mensagens make local (sem MENSAGENS_SO_LINKS=true, o do 20) e compre "
                 "(passo 1)"),
        Criterio(bool(no_trace or soltos), "a consulta antifraude rodou (há spans pagamentos.antifraude)",
                 sem_antifraude),
        Criterio(bool(no_trace) and all(s["parent_id"] in cobranca for s in no_trace),
                 "o pagamentos.antifraude está no trace da compra, filho do `process` da cobrança",
                 f"{len(soltos)} pagamentos.antifraude começaram um trace próprio: a thread não herda o contexto; "
                 "passe context.get_current() a ela e abra o span com context=… (passo 3), reinicie e compre"),
    ]
