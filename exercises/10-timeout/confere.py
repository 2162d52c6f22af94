"""Autoteste do exercício 10: uma cobrança incerta, e no fim nada cobrado por uma compra desfeita."""
import requests

from autoteste.consultas import compras, problema_do_id, trace_informado
from autoteste.exercicios import Criterio
from bookstore import config

TIPO = "observar"


def cobranca_incerta(grupo: list[dict]) -> bool:
    return any(s["nome"] == "saga.cobrar" and s["atributos"].get("bookstore.pagamento.incerto") is True
               for s in grupo)


def ordem_do_trace(grupo: list[dict]) -> int | None:
    return next((s["atributos"]["bookstore.ordem.id"] for s in grupo
                 if s["nome"] == "POST /ordens" and "bookstore.ordem.id" in s["atributos"]), None)


def situacao(ordem_id: int) -> tuple[str | None, list[str]]:
    """O status da ordem e os dos pagamentos dela, perguntando aos serviços."""
    try:
        ordem = requests.get(f"{config.url('ordens')}/ordens/{ordem_id}", timeout=5).json()
        pagamentos = requests.get(f"{config.url('pagamentos')}/pagamentos", params={"ordem_id": ordem_id},
                                  timeout=5).json()
    except (requests.RequestException, ValueError):
        return None, []
    return ordem.get("status"), [p["status"] for p in pagamentos]


def conferir(fonte, resposta: str) -> list[Criterio]:
    grupos = compras(fonte.spans())
    incertas = [t for t, grupo in grupos.items() if cobranca_incerta(grupo)]
    problema = problema_do_id(resposta, grupos) if incertas else None
    if problema:  # sem o trace, os critérios da ordem só repetiriam "informe o trace"
        return [Criterio(True, f"há compra com cobrança incerta (timeout em pagamentos): {len(incertas)}", ""),
                Criterio(False, "o trace informado é o dessa compra",
                         f"{problema}. make confere EX=10 RESPOSTA=<id do trace da compra que deu 504>")]
    trace = trace_informado(resposta, grupos)
    ordem_id = ordem_do_trace(trace) if trace else None
    status, pagamentos = situacao(ordem_id) if ordem_id else (None, [])
    return [
        Criterio(bool(incertas), f"há compra com cobrança incerta (timeout em pagamentos): {len(incertas)}",
                 "compre com o baggage de 6000 ms em pagamentos (passo 1)"),
        Criterio(trace is not None and cobranca_incerta(trace), "o trace informado é o dessa compra",
                 "make confere EX=10 RESPOSTA=<id do trace da compra que deu 504>"),
        Criterio(status == "falhou", f"a ordem terminou desfeita: {status}",
                 "espere a recuperação (até ~10 s) e confira de novo" if status else "informe o trace da compra"),
        Criterio(status == "falhou" and "aprovado" not in pagamentos,
                 f"nada ficou cobrado: pagamentos da ordem {pagamentos or 'nenhum'}",
                 "espere a recuperação estornar a cobrança atrasada e confira de novo"),
    ]
