"""Autoteste do exercício 18: uma réplica que atendia compras pelo gateway morreu, a carga seguiu nas
outras, e nenhuma compra falhou depois que o health check do gateway a tirou da roda."""
from autoteste.consultas import pelo_gateway, replica
from autoteste.exercicios import Criterio
from telemetria_local.traces import raiz, status_http

TIPO = "gateway"

# O health check ativo olha cada réplica a cada 1 s (gateway/Caddyfile); antes dele, uma conexão
# recusada já é repetida em outra réplica. Passado isto desde o último span da réplica morta, nenhuma
# compra pode ter falhado.
JANELA_SEGUNDOS = 3
COMPRAS_DEPOIS = 5


def conferir(fonte, resposta: str) -> list[Criterio]:
    spans = fonte.spans()
    # Tudo o que o gateway mandou para cada réplica (compras e chamadas internas), pelo atributo dele.
    ultima_vez = {}
    for span in spans:
        if span["servico"] == "gateway" and replica(span):
            ultima_vez[replica(span)] = max(ultima_vez.get(replica(span), 0), span["fim_ns"])
    informada = resposta.strip().rsplit(":", 1)[-1]
    morta = next((r for r in ultima_vez if informada and r.rsplit(":", 1)[-1] == informada), None)
    compras = [raiz(grupo) for grupo in pelo_gateway(spans).values()]
    depois = [c for c in compras if morta and c["inicio_ns"] > ultima_vez[morta] + JANELA_SEGUNDOS * 10**9]
    falhas = [c for c in depois if int(status_http(c) or 0) >= 500]
    sumiu = bool(morta) and any(ultima_vez[outra] > ultima_vez[morta] + JANELA_SEGUNDOS * 10**9
                                for outra in ultima_vez if outra != morta)
    return [
        Criterio(morta is not None, f"a réplica informada atendeu requisições pelo gateway: {morta or '—'}",
                 "make confere EX=18 RESPOSTA=<host:porta da réplica que você matou, como no bookstore.gateway.replica>"),
        Criterio(sumiu, "ela sumiu dos spans do gateway enquanto as outras continuaram atendendo",
                 "mate o master da réplica com a carga no ar (passo 3) e deixe a carga seguir uns 10 s"),
        Criterio(len(depois) >= COMPRAS_DEPOIS,
                 f"compras pelo gateway depois que o health check notou (>{JANELA_SEGUNDOS} s após o último span "
                 f"dela): {len(depois)}", "a carga precisa continuar depois da morte (passo 2 ainda rodando)"),
        Criterio(bool(depois) and not falhas and all(replica(c) != morta for c in depois),
                 f"nenhuma delas falhou (5xx: {len(falhas)}) nem foi para a réplica morta",
                 "se falharam, o gateway ainda manda para ela: o GATEWAY=true make local está com o Caddyfile do "
                 "laboratório (health_uri /ready, health_interval 1s)?"),
    ]
