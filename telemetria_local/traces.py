"""Traces a partir de spans achatados (`otlp.spans`): agrupar, resumir, desenhar.

O mesmo código desenha a linha que o `make local` imprime ao vivo, a lista do
`make traces` e a árvore de um trace, para o aluno ver sempre o mesmo formato.
"""
from .otlp import CLIENTE, STATUS_ERRO, TIPOS_DE_SPAN

# O que aparece ao lado de cada span na árvore, além dos `bookstore.*`.
ATRIBUTOS_MOSTRADOS = ("http.response.status_code", "http.status_code", "db.statement", "db.query.text",
                       "error.type")
LARGURA_SQL = 90


def agrupar(spans: list[dict]) -> dict[str, list[dict]]:
    """trace_id → spans, na ordem em que os traces apareceram."""
    traces: dict[str, list[dict]] = {}
    for span in spans:
        traces.setdefault(span["trace_id"], []).append(span)
    return traces


def raiz(spans: list[dict]) -> dict | None:
    """O span sem pai: quem começou o trace (numa compra, o POST /ordens de ordens)."""
    return next((s for s in spans if not s["parent_id"]), None)


def entrada(spans: list[dict]) -> dict:
    """Por onde o trace entrou no laboratório: a raiz ou, num trace continuado de fora (um cliente
    que mandou `traceparent`, como no exercício 02), o primeiro span cujo pai não está aqui."""
    ids = {s["span_id"] for s in spans}
    return raiz(spans) or min((s for s in spans if s["parent_id"] not in ids) or spans,
                              key=lambda s: s["inicio_ns"])


def duracao_ms(span: dict) -> float:
    return (span["fim_ns"] - span["inicio_ns"]) / 1e6


def servicos_em_ordem(spans: list[dict]) -> list[str]:
    """Os serviços na ordem em que entraram no trace."""
    ordem: list[str] = []
    for span in sorted(spans, key=lambda s: s["inicio_ns"]):
        if span["servico"] not in ordem:
            ordem.append(span["servico"])
    return ordem


def erros(spans: list[dict]) -> list[dict]:
    """Os spans com erro, na ordem em que terminaram: um erro sobe da origem para
    os pais, e a origem é quem termina primeiro."""
    return [s for s in sorted(spans, key=lambda s: s["fim_ns"]) if s["status"] == STATUS_ERRO]


def status_http(span: dict):
    atributos = span["atributos"]
    return atributos.get("http.response.status_code", atributos.get("http.status_code", ""))


# Status de uma ordem que terminou (ordens/repositorio.py: os outros são "em andamento").
DESFECHOS = ("concluida", "pagamento_recusado", "estoque_indisponivel", "falhou")


def desfecho(spans: list[dict]) -> str | None:
    """Como a compra terminou (o status final da ordem no trace), com o motivo
    que `saga.compensar` guardou: `estoque_indisponivel`, `falhou: pagamentos_indisponivel`."""
    # O POST /ordens responde com o status no span (ordens/rotas.py); o evento cobre o trace sem ele.
    candidatos = [s["atributos"].get("bookstore.ordem.status") for s in spans] + [
        atributos.get("bookstore.ordem.status") for s in spans for nome, atributos in s["eventos"]
        if nome == "bookstore.ordem.transicao"]
    status = next((c for c in candidatos if c in DESFECHOS), None)
    if status is None:
        return None
    motivo = next((s["atributos"].get("bookstore.ordem.motivo") for s in spans if s["nome"] == "saga.compensar"
                   and s["atributos"].get("bookstore.ordem.motivo")), None)
    return f"{status}: {motivo}" if motivo else status


def origem_do_erro(spans: list[dict]) -> str | None:
    """Onde o erro nasceu: o primeiro span em ERROR que não é um cliente HTTP (esse só repete o
    status de quem ele chamou: `POST` em ordens diz pouco; `POST /pagamentos` em pagamentos, tudo)."""
    com_erro = erros(spans)
    if not com_erro:
        return None
    primeiro = next((s for s in com_erro if s["kind"] != CLIENTE), com_erro[0])
    motivo = f" ({primeiro['status_mensagem']})" if primeiro["status_mensagem"] else ""
    return f"erro em {primeiro['servico']}: {primeiro['nome']}{motivo}"


def causa(spans: list[dict]) -> str | None:
    """Por que a resposta foi 4xx/5xx, em poucas palavras: o desfecho da compra, o campo inválido
    (`bookstore.erro.campo`, o mesmo que o 422 nomeia), ou o span onde o erro nasceu."""
    partes = [desfecho(spans),
              next((s["atributos"]["bookstore.erro.campo"] for s in spans if "bookstore.erro.campo" in s["atributos"]),
                   None)]
    partes = [parte for parte in partes if parte]
    return " · ".join(partes) if partes else origem_do_erro(spans)


def linha(spans: list[dict], id_completo: bool = False) -> str:
    """`trace 4bf92f… POST /ordens 201 35 ms 34 spans ordens→livros→pagamentos`; com ✘ se houve erro ou
    a resposta foi 4xx/5xx e, nesse caso, a causa: `— estoque_indisponivel`, `— itens[0].livro_id`."""
    inicio = entrada(spans)
    trace_id = spans[0]["trace_id"] if id_completo else spans[0]["trace_id"][:8] + "…"
    status = status_http(inicio)
    texto = (f"trace {trace_id} {inicio['nome']} {status} {duracao_ms(inicio):.0f} ms "
             f"{len(spans)} spans {'→'.join(servicos_em_ordem(spans))}").replace("  ", " ")
    if raiz(spans) is None:
        texto += " (sem raiz aqui: o pai do primeiro span não está neste trace)"
    motivo = causa(spans) if isinstance(status, int) and status >= 400 else origem_do_erro(spans)
    if motivo:
        texto += f" — {motivo}"
    # Um 4xx/5xx na entrada é ✘ mesmo sem span de erro: o 402 da compra recusada vem de um 201 de
    # pagamentos ("recusado" é um desfecho, não um erro), e sem isto só o 409 e o 422 ganhavam a marca.
    falhou = erros(spans) or (isinstance(status, int) and status >= 400)
    return f"✘ {texto}" if falhou else texto


def _detalhes(span: dict) -> str:
    partes = []
    for chave, valor in span["atributos"].items():
        if chave.startswith("bookstore.") or chave in ATRIBUTOS_MOSTRADOS:
            if isinstance(valor, str) and chave.startswith("db."):
                valor = " ".join(valor.split())
                valor = valor if len(valor) <= LARGURA_SQL else valor[:LARGURA_SQL] + "…"
                valor = f'"{valor}"'
            partes.append(f"{chave}={valor}")
    return "  ".join(partes)


def arvore(spans: list[dict]) -> str:
    """Um trace desenhado como árvore: início relativo, duração, serviço, span, tipo,
    status, atributos `bookstore.*` (e HTTP/SQL) e eventos. Um span cujo pai não
    está no trace aparece na raiz, marcado: é assim que se vê um trace partido."""
    ids = {s["span_id"] for s in spans}
    filhos: dict[str, list[dict]] = {}
    topo = []
    for span in sorted(spans, key=lambda s: s["inicio_ns"]):
        if span["parent_id"] and span["parent_id"] in ids:
            filhos.setdefault(span["parent_id"], []).append(span)
        else:
            topo.append(span)
    zero = min(s["inicio_ns"] for s in spans)
    linhas = [linha(spans, id_completo=True), "", "  início  duração  span"]

    def desenhar(span: dict, profundidade: int) -> None:
        recuo = "  " * profundidade
        marcas = [TIPOS_DE_SPAN.get(span["kind"], "?")]
        if span["status"] == STATUS_ERRO:
            marcas.append("✘ ERRO" + (f": {span['status_mensagem']}" if span["status_mensagem"] else ""))
        if span["parent_id"] and span["parent_id"] not in ids:
            marcas.append(f"pai {span['parent_id'][:8]}… fora deste trace")
        linhas.append(f"{(span['inicio_ns'] - zero) / 1e6:>8.1f}{duracao_ms(span):>9.1f}  {recuo}"
                      f"{span['servico']}: {span['nome']}  [{', '.join(marcas)}]  {_detalhes(span)}".rstrip())
        for nome, atributos in span["eventos"]:
            extras = "  ".join(f"{k}={v}" for k, v in atributos.items() if not k.startswith("exception.stacktrace"))
            linhas.append(f"{'':19}{recuo}  • evento {nome}  {extras}".rstrip())
        # Os links de um `process` (compra por mensagens): para o `send` da mensagem, aqui ou noutro trace
        # (MENSAGENS_SO_LINKS=true) — o id inteiro, para seguir com `make traces TRACE=`.
        for trace_id, span_id in span.get("links", []):
            onde = "neste trace" if span_id in ids else f"trace {trace_id}"
            linhas.append(f"{'':19}{recuo}  ↪ link: {onde}, span {span_id[:8]}…")
        for filho in filhos.get(span["span_id"], []):
            desenhar(filho, profundidade + 1)

    for span in topo:
        desenhar(span, 0)
    linhas.append("\n(tempos em ms; início relativo ao primeiro span do trace)")
    linhas += ["", "recursos (quem emitiu; no Jaeger, \"Process\"):", *recursos(spans)]
    return "\n".join(linhas)


def recursos(spans: list[dict]) -> list[str]:
    """Uma linha por processo que mandou spans do trace: o serviço e os atributos do recurso
    (cada worker tem o seu `service.instance.id`)."""
    # Valores de lista ou dict (um atributo array, como process.command_args) não servem de chave.
    vistos = {tuple(sorted((chave, _hashavel(valor)) for chave, valor in s["recurso"].items())): s["servico"]
              for s in spans}
    return [f"  {servico}: " + "  ".join(f"{chave}={valor}" for chave, valor in recurso if chave != "service.name")
            for recurso, servico in sorted(vistos.items(), key=lambda item: str(item[1]))]


def _hashavel(valor):
    return valor if isinstance(valor, (str, int, float, bool, bytes, type(None))) else str(valor)


def guardados(spans: list[dict]) -> list[list[dict]]:
    """Os traces, do mais antigo ao mais novo (pelo fim do span de entrada). Inclui os sem raiz
    aqui — continuados de fora ou a metade de um trace partido —, que o aluno também precisa ver."""
    return sorted(agrupar(spans).values(), key=lambda grupo: entrada(grupo)["fim_ns"])
