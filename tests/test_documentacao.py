"""A documentação não pode se descolar do código.

O curso de origem e o OTel Demo publicaram comandos que não existiam mais. Aqui, tudo
o que README.md, docs/ e exercises/ mandam o aluno usar é conferido contra o projeto:
alvos do make, caminhos de arquivo, variáveis de ambiente, nomes de spans, atributos e
métricas `bookstore.*`, e as rotas dos `curl` (contra o OpenAPI de cada serviço).
Os comandos em si rodam nos testes de cada parte (exercícios, make traces, make
diagnostico, make carga...); este arquivo garante que os nomes ainda apontam para algo.
"""
import re
from pathlib import Path

import pytest

from bookstore import topologia

RAIZ = Path(__file__).resolve().parent.parent
DOCUMENTOS = sorted([RAIZ / "README.md", *(RAIZ / "docs").glob("*.md"), *(RAIZ / "exercises").rglob("*.md")])
CODIGO = "\n".join(caminho.read_text(encoding="utf-8") for caminho in sorted(
    [*RAIZ.glob("*/**/*.py"), *RAIZ.glob("*/*.patch"), *RAIZ.glob("exercises/*/solucao.patch"),
     RAIZ / "otel.env", RAIZ / "docker-compose.yml", RAIZ / "Makefile", *RAIZ.glob("*/*.yaml"),
     *RAIZ.glob("*/*.yml"), RAIZ / "gateway" / "Caddyfile"]) if not {".venv", "tests"} & set(caminho.parts) and caminho.is_file())
# Nomes que a documentação cita mas que são de fora (o kernel, o OpenTelemetry, o Prometheus; SPAN_KIND_SERVER
# é um valor do rótulo span_kind que o spanmetrics do Collector grava).
DE_FORA = {"PR_SET_PDEATHSIG", "OTEL_TRACES_SAMPLER_ARG", "OTEL_BSP_", "SPAN_KIND_SERVER"}


def trechos_de_codigo(texto: str) -> list[str]:
    """O que está entre crases (inline) e dentro de blocos ```."""
    blocos = re.findall(r"```[a-z]*\n(.*?)```", texto, re.S)
    sem_blocos = re.sub(r"```.*?```", "", texto, flags=re.S)
    return re.findall(r"`([^`\n]+)`", sem_blocos) + blocos


def citados(padrao: str) -> dict[str, list[str]]:
    """valor → documentos que o citam em código."""
    achados: dict[str, list[str]] = {}
    for documento in DOCUMENTOS:
        for trecho in trechos_de_codigo(documento.read_text(encoding="utf-8")):
            for valor in re.findall(padrao, trecho):
                achados.setdefault(valor, []).append(str(documento.relative_to(RAIZ)))
    return achados


def test_ha_documentos_e_codigo_para_conferir():
    assert len(DOCUMENTOS) >= 8 and len(CODIGO) > 100_000


def test_todo_make_citado_e_um_alvo_do_makefile():
    alvos = set(re.findall(r"^([a-z][a-z-]*):", (RAIZ / "Makefile").read_text(), re.M))
    citados_make = citados(r"\bmake ([a-z][a-z-]*)")
    assert citados_make and {alvo: docs for alvo, docs in citados_make.items() if alvo not in alvos} == {}


def test_toda_variavel_de_ambiente_citada_e_lida_em_algum_lugar():
    variaveis = citados(r"\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b")
    # As PORTA_* e *_URL da topologia são lidas pelo nome que ela monta (bookstore/topologia.py).
    da_topologia = {p.variavel for p in topologia.PROCESSOS.values()} | {
        p.variavel_url for p in topologia.PROCESSOS.values() if p.variavel_url} | {
        p.variavel_ambiente for p in topologia.SERVICOS_DO_LAB}
    faltando = {nome: docs for nome, docs in variaveis.items()
                if nome not in DE_FORA | da_topologia and not nome.startswith("OTEL_")
                and not re.search(rf"\b{nome}\b", CODIGO)}
    assert len(variaveis) > 20 and faltando == {}


def test_todo_nome_bookstore_e_saga_citado_existe_no_codigo():
    """Spans, atributos, eventos e métricas que o aluno vai procurar no Jaeger/Prometheus."""
    nomes = citados(r"\b((?:bookstore|saga|estoque|pagamentos|recuperacao)\.[a-z_]+(?:\.[a-z_]+)*)\b")
    prometheus = citados(r"\b(bookstore_[a-z_]+)\b")
    def existe(nome: str) -> bool:
        # Os passos da saga ganham o nome em ordens/saga.py: passo("cobrar") → span saga.cobrar.
        return nome in CODIGO or (nome.startswith("saga.") and f'passo("{nome[5:]}"' in CODIGO)

    faltando = {nome: docs for nome, docs in nomes.items() if not existe(nome)}
    # No Prometheus os pontos viram _ e ganham sufixo (_total, _bucket…): volte ao nome OTel.
    for nome, docs in prometheus.items():
        base = re.sub(r"_(total|bucket|count|sum)$", "", nome)
        if not any(candidato.replace(".", "_") == base for candidato in re.findall(r"bookstore\.[a-z_.]+", CODIGO)):
            faltando[nome] = docs
    assert len(nomes) > 20 and faltando == {}


def test_todo_caminho_citado_existe():
    caminhos = citados(r"(?<![\w./-])((?:[a-z_]+/)+[\w.-]+\.(?:py|md|yaml|yml|sql|patch|env|sh|jsonl|toml))\b")
    faltando = {}
    for caminho, docs in caminhos.items():
        if caminho.startswith(".telemetria/") or "site-packages" in caminho:
            continue  # criados em tempo de execução / de fora
        if not any((base / caminho).exists() for base in [RAIZ, *{(RAIZ / d).parent for d in docs}]):
            faltando[caminho] = docs
    assert len(caminhos) > 15 and faltando == {}


def rotas_documentadas() -> dict[int, list[re.Pattern]]:
    """porta → rotas que o serviço atende, tiradas do OpenAPI dele (com /docs e /openapi.json)."""
    import importlib

    from flask import Flask
    rotas = {}
    for servico, porta in topologia.portas_padrao().items():
        app = Flask(servico)
        app.config["ADMIN_HABILITADO"] = True
        with app.app_context():
            caminhos = importlib.import_module(f"{servico}.openapi").gerar()["paths"]
        padroes = [re.sub(r"\\\{[a-z_]+\\\}", r"[^/?]+", re.escape(caminho)) for caminho in caminhos]
        rotas[porta] = [re.compile(f"^{p}/?(\\?.*)?$") for p in [*padroes, "/docs", "/openapi\\.json"]]
    return rotas


def test_toda_rota_dos_curl_existe_no_servico():
    rotas = rotas_documentadas()
    urls = citados(r"(?:localhost|127\.0\.0\.1):(808[1-3])(/[^\s'\"]*)")
    faltando = {}
    for documento in DOCUMENTOS:
        for trecho in trechos_de_codigo(documento.read_text(encoding="utf-8")):
            for porta, caminho in re.findall(r"(?:localhost|127\.0\.0\.1):(808[1-3])(/[^\s'\"`)]*)", trecho):
                if not any(rota.match(caminho) for rota in rotas[int(porta)]):
                    faltando.setdefault(f":{porta}{caminho}", []).append(str(documento.relative_to(RAIZ)))
    assert urls and faltando == {}


@pytest.mark.parametrize("documento", DOCUMENTOS, ids=lambda d: str(d.relative_to(RAIZ)))
def test_links_relativos_apontam_para_o_que_existe(documento):
    for alvo in re.findall(r"\]\((?!https?:)([^)#]+)", documento.read_text(encoding="utf-8")):
        assert (documento.parent / alvo).exists(), f"{documento.name}: link quebrado para {alvo}"
