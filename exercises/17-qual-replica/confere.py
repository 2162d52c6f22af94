"""Autoteste do exercício 17: compras pelo gateway, uma em cada réplica de ordens, e a resposta diz
a réplica (o atributo do span do gateway) e o processo (o service.instance.id dos spans de ordens)."""
from autoteste.consultas import pelo_gateway, replica
from autoteste.exercicios import Criterio
from telemetria_local.traces import raiz

TIPO = "gateway"


def atendimento(grupo: list[dict]) -> tuple[str, str]:
    """(réplica de ordens que o gateway escolheu, service.instance.id do worker de ordens que atendeu)."""
    de_ordens = next((s for s in grupo if s["servico"] == "ordens" and s["nome"] == "POST /ordens"), None)
    return replica(raiz(grupo)), (de_ordens["recurso"].get("service.instance.id", "") if de_ordens else "")


def conferir(fonte, resposta: str) -> list[Criterio]:
    grupos = list(pelo_gateway(fonte.spans()).values())
    ultimas = [atendimento(grupo) for grupo in grupos[-2:]]
    porta, _, instancia = resposta.strip().partition(" ")
    certa_porta = bool(ultimas) and bool(porta) and ultimas[-1][0].rsplit(":", 1)[-1] == porta.rsplit(":", 1)[-1]
    instancia = instancia.strip().lower()
    return [
        Criterio(len(grupos) >= 2, f"compras que entraram pelo gateway (raiz no span dele): {len(grupos)}",
                 "compre duas vezes pela porta 8080 do gateway (passo 1), com o GATEWAY=true make local no ar"),
        Criterio(len(ultimas) == 2 and ultimas[0][0] != ultimas[1][0],
                 "as duas últimas compras foram para réplicas diferentes de ordens (round robin)",
                 "faça as duas compras em seguida, sem outra carga no ar: o gateway alterna as réplicas"),
        Criterio(certa_porta, "a réplica informada é a que atendeu a compra mais recente (bookstore.gateway.replica)",
                 "make confere EX=17 RESPOSTA='<porta da réplica> <começo do service.instance.id>' da compra mais "
                 "recente — a última linha de trace do `make traces` (a lista vai da mais antiga à mais nova): a "
                 "porta está no span POST /ordens do gateway, o id no recurso dos spans de ordens do mesmo trace"),
        Criterio(certa_porta and len(instancia) >= 8 and ultimas[-1][1].startswith(instancia),
                 "o service.instance.id informado é o do worker de ordens que atendeu essa compra",
                 "no make traces TRACE=<id>, a lista 'recursos' no fim: a linha de ordens (8 caracteres bastam)"),
    ]
