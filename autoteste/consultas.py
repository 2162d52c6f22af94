"""Perguntas que vários autotestes fazem à telemetria e ao laboratório."""
import re
import time

import requests

from bookstore import config, topologia
from telemetria_local import traces
from telemetria_local.otlp import SERVIDOR


def compras(spans: list[dict]) -> dict[str, list[dict]]:
    """trace_id → spans, só dos traces de compra (a raiz é o POST /ordens de ordens)."""
    return {trace_id: grupo for trace_id, grupo in traces.agrupar(spans).items()
            if any(s["servico"] == "ordens" and s["nome"] == "POST /ordens" and s["kind"] == SERVIDOR
                   for s in grupo)}


def pelo_gateway(spans: list[dict]) -> dict[str, list[dict]]:
    """trace_id → spans, só das compras que entraram pelo gateway (a raiz é o POST /ordens dele),
    na ordem em que começaram (exercícios 17 e 18)."""
    grupos = {trace_id: grupo for trace_id, grupo in compras(spans).items()
              if (inicio := traces.raiz(grupo)) and inicio["servico"] == "gateway" and inicio["nome"] == "POST /ordens"}
    return dict(sorted(grupos.items(), key=lambda item: traces.raiz(item[1])["inicio_ns"]))


def replica(span: dict) -> str:
    """A réplica que o gateway escolheu para a requisição deste span (host:porta), ou ""."""
    return span["atributos"].get("bookstore.gateway.replica", "")


def completa(grupo: list[dict]) -> bool:
    """A compra atravessou os três serviços e tem SQL (o trace não está pela metade)."""
    return ({s["servico"] for s in grupo} >= set(topologia.SERVICOS)
            and any("db.system" in s["atributos"] for s in grupo))


def mais_recente(grupos) -> list[dict]:
    """A compra que começou por último (os spans dela), ou [] se não há nenhuma."""
    todos = grupos.values() if isinstance(grupos, dict) else grupos
    return max(todos, key=lambda grupo: min(s["inicio_ns"] for s in grupo), default=[])


def falha_desligada(servico: str) -> bool | None:
    """GET /admin/falhas do serviço diz 0 e 0? None se o serviço não respondeu."""
    try:
        falha = requests.get(config.url(servico) + "/admin/falhas", timeout=5).json()
    except (requests.RequestException, ValueError):
        return None
    return falha == {"latencia_ms": 0, "taxa_erro": 0}


def parece_trace_id(resposta: str) -> bool:
    """Um trace id em hexadecimal, inteiro (32) ou o começo dele (8 ou mais): `zzzz` não é."""
    return re.fullmatch(r"[0-9a-f]{8,32}", resposta.lower().strip().rstrip("…")) is not None


def onde_achar_o_id(fonte) -> str:
    """Onde o aluno copia o id do trace, no modo em vigor: o terminal do make local e o `make traces`;
    com a pilha real do make local, o visualizador de traces; no compose, o topo do trace no Jaeger."""
    from telemetria_local.fontes import FonteLocal, responde
    if isinstance(fonte, FonteLocal):
        return ("na linha `trace 1a2b3c4d… POST /ordens …` do terminal do make local, ou inteiro na "
                "lista do `make traces`")
    visualizador = config.url("visualizador")
    if responde(visualizador + "/"):  # só o make local com a pilha real tem o visualizador
        return (f"em {visualizador}/traces, na lista à esquerda e no topo da cascata, ou inteiro na lista "
                "do `make traces`")
    return "no Jaeger, no topo do trace (Trace ID)"


def id_normalizado(resposta: str) -> str:
    """O id como o aluno o colou, do jeito que vier: maiúsculas, o `…` do terminal, espaços, ou um
    traceparent inteiro (00-<trace id>-<span id>-01)."""
    texto = resposta.strip().lower().rstrip("…").strip()
    traceparent = re.fullmatch(r"[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}", texto)
    return traceparent.group(1) if traceparent else texto.replace(" ", "")


def problema_do_id(resposta: str, grupos: dict[str, list[dict]]) -> str | None:
    """Por que o id informado não aponta uma compra só — em uma linha, sem adivinhar o resto; None se aponta."""
    texto = id_normalizado(resposta)
    if not texto:
        return "falta o id: RESPOSTA=<o id do trace, 8 ou mais caracteres do começo>"
    if not re.fullmatch(r"[0-9a-f]+", texto):
        return f"{resposta.strip()!r} não é um id de trace: só 0-9 e a-f (copie do `make traces`)"
    if len(texto) < 8:
        return f"o id tem {len(texto)} caracteres: copie 8 ou mais do começo (ou o id inteiro, 32)"
    achados = [trace_id for trace_id in grupos if trace_id.startswith(texto)]
    if len(achados) > 1:
        return f"o começo {texto} serve para {len(achados)} compras: copie mais caracteres"
    if not achados:
        return (f"nenhuma compra com o trace {texto[:8]}… na telemetria que chegou: o id é de uma compra "
                "desta sessão? (o `make traces` lista as que chegaram)")
    return None


def trace_informado(resposta: str, grupos: dict[str, list[dict]]) -> list[dict] | None:
    """O trace cujo id o aluno informou (o id inteiro ou o começo, com 8+ caracteres, de qualquer jeito
    que `id_normalizado` entenda); None se não aponta uma compra só (`problema_do_id` diz por quê)."""
    if problema_do_id(resposta, grupos):
        return None
    texto = id_normalizado(resposta)
    return next(grupo for trace_id, grupo in grupos.items() if trace_id.startswith(texto))


def config_do_collector_em_vigor() -> tuple[float | None, str, str]:
    """(quando o Collector a aceitou, o texto, de onde veio). No make local com a pilha real, a que o
    lançador registrou ao reiniciar o Collector; fora dele (o Docker), o arquivo — que só vale depois de
    `docker compose restart otel-collector`."""
    import json
    from modo_local.pilha_real import CONFIG_ACEITA
    from telemetria_local.armazem import pasta_padrao
    registro = pasta_padrao() / "pilha" / CONFIG_ACEITA
    try:
        aceita = json.loads(registro.read_text(encoding="utf-8"))
        return aceita["aceita_em"], aceita["config"], "a que o Collector aceitou por último"
    except (OSError, ValueError, KeyError):
        arquivo = config.RAIZ / "otel-collector" / "config.yaml"
        return None, arquivo.read_text(encoding="utf-8"), "otel-collector/config.yaml, depois do restart"


def pedacos_sem_raiz(spans: list[dict]) -> list[list[dict]]:
    """Traces partidos: pedaços em que um serviço gravou o que fez para ordens, mas o span de ordens
    que o chamou não foi gravado (nenhum span de ordens no trace, e algum span cujo pai não está)."""
    pedacos = []
    for grupo in traces.agrupar(spans).values():
        ids = {s["span_id"] for s in grupo}
        if not any(s["servico"] == "ordens" for s in grupo) and any(
                s["parent_id"] and s["parent_id"] not in ids for s in grupo):
            pedacos.append(grupo)
    return pedacos


def otel_em_vigor(nome: str) -> str | None:
    """Uma variável OTEL_* como os serviços a recebem: a do ambiente, senão a de otel.env."""
    if nome in config.VARIAVEIS and config.definida(nome):
        return str(config.ler(nome))
    return config.variaveis_do_otel_env().get(nome)


def tem_metrica(nomes: set[str], nome: str) -> bool:
    """A métrica chegou? `nomes` vem do armazém local (nomes OTel, com ponto) ou do Prometheus
    (com _ e sufixos como _total e _bucket): aceita os dois."""
    return nome in nomes or any(n.startswith(nome.replace(".", "_")) for n in nomes)


def esperar(condicao, limite: float = 15, intervalo: float = 0.1, descricao: str = ""):
    """Chama `condicao()` até ela devolver algo verdadeiro (e devolve isso), por no máximo
    `limite` segundos; senão, falha dizendo o que não aconteceu. A única espera com prazo
    do laboratório: soluções dos exercícios e testes a usam em vez de laços à mão."""
    fim = time.monotonic() + limite
    while True:
        valor = condicao()
        if valor:
            return valor
        if time.monotonic() >= fim:
            raise AssertionError(f"esperei {limite:g} s e não aconteceu: {descricao or condicao.__name__}")
        time.sleep(intervalo)


def esperar_compra(fonte, condicao, limite_segundos: float = 15) -> str:
    """O id do trace de compra mais recente em que `condicao(spans)` vale, esperando a telemetria
    chegar — como o aluno, que espera o trace aparecer para copiar o id (os `solucao.py`)."""
    def achado():
        achados = [trace_id for trace_id, grupo in compras(fonte.spans()).items() if condicao(grupo)]
        return achados[-1] if achados else None
    return esperar(achado, limite_segundos, intervalo=0.3, descricao="o trace da compra chegar")


# --- a compra por mensagens (exercícios 19 a 22) -------------------------------------------------
def processamentos(grupo: list[dict], routing_key: str = "") -> list[dict]:
    """Os spans `process` (CONSUMER) de um trace; com `routing_key`, só os dessa mensagem."""
    return [s for s in grupo if s["nome"].startswith("process bookstore:")
            and (not routing_key or s["atributos"].get("messaging.rabbitmq.destination.routing_key") == routing_key)]


def envios(grupo: list[dict]) -> list[dict]:
    return [s for s in grupo if s["nome"].startswith("send bookstore:")]
