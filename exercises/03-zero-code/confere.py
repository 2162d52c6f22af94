"""Autoteste do exercício 03: pagamentos sob o opentelemetry-instrument, a compra inteira, e a
diferença de recurso que o aluno achou, conferida na própria telemetria."""
from autoteste.consultas import completa, compras, mais_recente
from autoteste.exercicios import Criterio

TIPO = "ambiente"

# Atributo que a distro do opentelemetry-instrument põe no recurso (e a configuração à mão, não).
MARCA_DO_ZERO_CODE = "telemetry.auto.version"


def conferir(fonte, resposta: str) -> list[Criterio]:
    spans = fonte.spans()
    zero_code = [s for s in spans if MARCA_DO_ZERO_CODE in s["recurso"]]
    a_mao = [s for s in spans if s["servico"] in ("ordens", "livros") and MARCA_DO_ZERO_CODE not in s["recurso"]]
    com_zero_code = [grupo for grupo in compras(spans).values() if any(MARCA_DO_ZERO_CODE in s["recurso"] for s in grupo)]
    ultima = mais_recente(com_zero_code)
    so_a_mao = ({chave for s in a_mao for chave in s["recurso"]}
                - {chave for s in zero_code for chave in s["recurso"]})
    return [
        Criterio(any(s["servico"] == "pagamentos" for s in zero_code),
                 "pagamentos rodou sob o opentelemetry-instrument (recurso com telemetry.auto.version)",
                 "Ctrl-C no make local e `ZERO_CODE=pagamentos make local` (passo 2); depois compre"),
        Criterio(bool(ultima) and completa(ultima) and any(s["nome"] == "pagamentos.decidir" for s in ultima),
                 "a compra continua um trace só, com o span manual pagamentos.decidir dentro",
                 "compre de novo (passo 3) e espere 2 s pelo lote de spans"),
        Criterio(resposta.strip() in so_a_mao,
                 f"{resposta.strip() or '(sem resposta)'} está no recurso de ordens e livros e falta no de pagamentos",
                 "compare a seção 'recursos' no fim de `make traces TRACE=<id>` e responda com "
                 "make confere EX=03 RESPOSTA=<atributo>"),
    ]
