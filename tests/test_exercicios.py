"""O autoteste de cada exercício FALHA antes de o aluno fazer o exercício e PASSA
depois, contra o laboratório de verdade (`python -m modo_local`), no modo local.

Cada exercício declara o seu TIPO (autoteste/exercicios.py), e é ele que diz como provar.
Um laboratório intocado serve a todos os de observação; os de código ganham um segundo
laboratório, numa cópia do projeto com todas as soluções (`solucao.patch`) aplicadas e os
ambientes (`solucao.env`) — um reinício só, não um por exercício. Os que não cabem nele têm
o seu: a configuração do 12 (otel.env vale para o laboratório inteiro), a quebra do 02, a
medição do 16. As ações de cada exercício (o que o README manda fazer) estão no `solucao.py`.
Os da compra por mensagens (19 a 22) estão em tests/test_exercicios_de_mensagens.py; o que os dois
arquivos usam (o autoteste, as ações, a cópia do projeto, o README com reinícios), em tests/roteiro.py."""
import contextlib
import os
import sys
import time
from pathlib import Path

import pytest

from autoteste.exercicios import carregar, com_autoteste, tipo
from bookstore.config import RAIZ
from supervisao.portas import porta_livre
from telemetria_local import traces
from telemetria_local.fontes import FonteLocal
from autoteste.readme import passos
from tests import roteiro
from tests.apoio import esperar, explicar, rodar
from tests.lancador import ModoLocal
from tests.roteiro import autoteste, confere, copia_com, fazer, passou, reiniciando_pelo_readme

pytestmark = pytest.mark.e2e
EXERCICIOS = com_autoteste()
POR_TIPO = {nome: [pasta for pasta in EXERCICIOS if tipo(pasta) == nome] for nome in
            ("observar", "codigo", "ambiente", "configurar", "collector", "medir", "gateway", "mensagens")}
DE_OBSERVACAO, DE_CODIGO, DE_AMBIENTE = POR_TIPO["observar"], POR_TIPO["codigo"], POR_TIPO["ambiente"]
# Soluções que mudam otel.env (a amostragem do 12) valem para o laboratório inteiro: cada uma
# ganha o seu, para não esconder os spans que os exercícios de código procuram.
DE_CONFIGURAR = POR_TIPO["configurar"]
# Os de Collector (13, 14): a solução é uma config; aqui só no papel, e o autoteste em amostras.
DE_COLLECTOR = POR_TIPO["collector"]
# Os que leem o que o make bench guardou (o 16), não a telemetria do laboratório.
DE_MEDICAO = POR_TIPO["medir"]
# Os do gateway (17, 18): um laboratório com GATEWAY=true, o 17 antes do 18 (que mata uma réplica).
DE_GATEWAY = POR_TIPO["gateway"]
# Os da compra por mensagens (19 a 22): em tests/test_exercicios_de_mensagens.py.
DE_MENSAGENS = POR_TIPO["mensagens"]
# O aluno espera os 10 s de otel.env; a suíte não precisa.
METRICAS_A_CADA_SEGUNDO = {"OTEL_METRIC_EXPORT_INTERVAL": "1000"}
# O laboratório das soluções de código exporta mais devagar que o de otel.env (lotes de 2 s, métricas a
# cada 3 s): conferir logo depois do curl, como a sala faz, só passa se o autoteste esperar a telemetria.
LOTES_DEVAGAR = {"OTEL_BSP_SCHEDULE_DELAY": "2000", "OTEL_BLRP_SCHEDULE_DELAY": "2000",
                 "OTEL_METRIC_EXPORT_INTERVAL": "3000"}
# A recuperação (exercício 10) passa a cada 10 s no laboratório; a suíte não espera tanto.
RECUPERACAO_A_CADA_SEGUNDO = {"ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS": "1"}


@pytest.fixture(scope="module")
def intocado(tmp_path_factory):
    with ModoLocal(tmp_path_factory.mktemp("telemetria-intocado"), **METRICAS_A_CADA_SEGUNDO,
                   **RECUPERACAO_A_CADA_SEGUNDO) as lab:
        yield lab


@pytest.fixture(scope="module")
def com_solucoes(tmp_path_factory):
    """Os patches de código e os ambientes (solucao.env: ZERO_CODE=pagamentos) juntos: nenhum
    atrapalha o que os outros conferem, e um laboratório a menos custa ~6 s a menos na suíte."""
    copia = copia_com(tmp_path_factory.mktemp("projeto"), *(pasta / "solucao.patch" for pasta in DE_CODIGO))
    ambientes = {chave: valor for pasta in DE_AMBIENTE for chave, valor in ambiente_da_solucao(pasta).items()}
    with ModoLocal(tmp_path_factory.mktemp("telemetria-solucoes"), raiz=copia, **LOTES_DEVAGAR, **ambientes) as lab:
        yield lab


@pytest.mark.parametrize("pasta", EXERCICIOS, ids=lambda p: p.name)
def test_autoteste_falha_antes_do_exercicio(intocado, pasta):
    resultado = confere(intocado, pasta)
    assert resultado.returncode == 1, explicar(resultado)
    assert "✘" in resultado.stdout and "dica:" in resultado.stdout


def conferir_ate_passar(lab: ModoLocal, pasta: Path, resposta: str, limite_segundos: float = 20):
    """Como o aluno: roda o make confere de novo até a telemetria (ou a recuperação) chegar.
    Devolve a última execução (a que passou, ou a que falhava quando o prazo acabou)."""
    execucoes = []

    def passou():
        execucoes.append(confere(lab, pasta, resposta))
        return execucoes[-1].returncode == 0

    try:
        esperar(passou, limite_segundos, intervalo=0.5)
    except AssertionError:
        pass  # quem chama confere o código e mostra a saída
    return execucoes[-1]


# --- os READMEs executados: o exercício feito pelo texto, o autoteste logo depois ----------
@pytest.mark.parametrize("pasta", DE_OBSERVACAO, ids=lambda p: p.name)
def test_readme_de_observacao_executado_passa_logo_depois(intocado, terminal, pasta):
    """Os blocos do README na ordem, contra o laboratório intocado; a resposta é a que o aluno leria
    (solucao.resposta); o `make confere` do fim roda uma vez só, logo depois do último passo."""
    aluno = roteiro.Aluno(pasta, intocado, intocado.raiz, terminal)
    passou(roteiro.fazer_pelo_readme(aluno, roteiro.blocos_que_rodam(pasta)))


# Tempo para a telemetria de uma compra chegar ao receptor: lote de spans de 1 s (otel.env)
# e métricas a cada 1 s (METRICAS_A_CADA_SEGUNDO), com folga.
CHEGADA_SEGUNDOS = 3


@pytest.fixture(scope="module")
def compras_sem_o_codigo(intocado):
    """As ações de todos os exercícios de código no laboratório intocado, e uma espera só: até
    as compras delas chegarem inteiras ao armazém (a do 05 é a recusada, a última a sair)."""
    fonte = FonteLocal(intocado.pasta_telemetria)
    antes = len(compras_inteiras(fonte))
    for pasta in DE_CODIGO:
        fazer(pasta, intocado)
    esperar(lambda: len(compras_inteiras(fonte)) >= antes + len(DE_CODIGO), CHEGADA_SEGUNDOS * 3,
            descricao="as compras dos exercícios de código chegarem ao armazém")
    return intocado


def compras_inteiras(fonte) -> list:
    from autoteste.consultas import completa, compras
    return [grupo for grupo in compras(fonte.spans()).values() if completa(grupo)]


@pytest.mark.parametrize("pasta", DE_CODIGO, ids=lambda p: p.name)
def test_exercicio_de_codigo_segue_falhando_sem_o_codigo_mesmo_com_compras(compras_sem_o_codigo, pasta):
    resultado = confere(compras_sem_o_codigo, pasta)
    assert resultado.returncode == 1, explicar(resultado)


@pytest.mark.parametrize("pasta", DE_CONFIGURAR, ids=lambda p: p.name)
def test_readme_que_muda_a_configuracao_executado_reiniciando_como_o_texto_manda(tmp_path, terminal, pasta):
    """O 12 pelo README: cada trecho de otel.env aplicado na vez dele, o laboratório reiniciado a cada
    `make local` do texto (com o ambiente que ele dá), a carga e o `make confere` — que DEVE falhar no
    passo 2 (traces partidos) e passar no fim. O solucao.patch leva otel.env ao mesmo lugar."""
    copia = copia_com(tmp_path)
    resultado, aluno = reiniciando_pelo_readme(pasta, copia, tmp_path, terminal, **METRICAS_A_CADA_SEGUNDO)
    passou(resultado)
    print("\n".join(aluno.saidas))  # o que o aluno viu (pytest -s): as contas do README vêm daqui
    solucao = copia_com(tmp_path / "solucao", pasta / "solucao.patch")
    assert (solucao / "otel.env").read_text() == (copia / "otel.env").read_text()


def ambiente_da_solucao(pasta: Path) -> dict:
    linhas = (pasta / "solucao.env").read_text().splitlines()
    return dict(linha.split("=", 1) for linha in linhas if linha.strip() and not linha.startswith("#"))


@pytest.mark.parametrize("pasta", DE_AMBIENTE, ids=lambda p: p.name)
def test_autoteste_passa_com_o_laboratorio_no_ambiente_da_solucao(com_solucoes, pasta):
    resultado = conferir_ate_passar(com_solucoes, pasta, fazer(pasta, com_solucoes))
    assert resultado.returncode == 0, explicar(resultado)
    errada = confere(com_solucoes, pasta, "service.name")  # está nos dois recursos
    assert errada.returncode == 1 and "✘ service.name está no recurso" in errada.stdout, explicar(errada)


# Uma medição de verdade, pequena: 1 worker por serviço, 6 compras, 2 clientes, lote de 0,2 s.
MEDICAO_PEQUENA = {"WEB_CONCURRENCY": "1", "BENCH_COMPRAS": "6", "BENCH_RODADAS": "1", "BENCH_CONCORRENCIA": "2",
                   "BENCH_AQUECIMENTO": "2", "OTEL_BSP_SCHEDULE_DELAY": "200", "BENCH_SO_A_CARGA": "true"}


def test_a_quebra_do_02_parte_o_trace_e_o_autoteste_aponta(tmp_path):
    """O passo 2 do exercício 02 faz o que o README promete: a compra vira dois traces, e o
    autoteste diz que o pagamento saiu do trace (não só que falta o inject)."""
    pasta = RAIZ / "exercises" / "02-propagacao"
    copia = copia_com(tmp_path, pasta / "quebra.patch")
    partida = {("ordens", "livros"), ("pagamentos",)}
    with ModoLocal(tmp_path / "telemetria", raiz=copia) as lab:
        fazer(pasta, lab)

        def partida_em_dois():  # os dois pedaços chegam em lotes de 1 s, de workers diferentes
            grupos = traces.agrupar(FonteLocal(lab.pasta_telemetria).spans())
            return grupos if {tuple(traces.servicos_em_ordem(g)) for g in grupos.values()} == partida else None

        grupos = esperar(partida_em_dois, CHEGADA_SEGUNDOS * 2, intervalo=0.2,
                         descricao="a compra chegar partida em dois traces")
        resultado = confere(lab, pasta)
    assert resultado.returncode == 1, explicar(resultado)
    assert "✘ na compra mais recente, o pagamento está no mesmo trace" in resultado.stdout
    assert sorted(traces.entrada(g)["nome"] for g in grupos.values()) == ["POST /ordens", "POST /pagamentos"]
    assert {tuple(traces.servicos_em_ordem(g)) for g in grupos.values()} == partida


@pytest.fixture(scope="module")
def com_o_codigo_do_readme(tmp_path_factory):
    """Uma cópia do projeto com o código de cada exercício de código (e do 03) tirado do README dele —
    os `git apply` e os trechos marcados, na ordem do texto —, e um laboratório só, subido com o
    ambiente que os `make local` dos textos pedem (ZERO_CODE=pagamentos, do 03)."""
    copia = copia_com(tmp_path_factory.mktemp("projeto-readme"))
    ambiente = {}
    for pasta in DE_CODIGO + DE_AMBIENTE:
        ambiente.update(roteiro.preparar(pasta, copia))
    with ModoLocal(tmp_path_factory.mktemp("telemetria-readme"), raiz=copia, **METRICAS_A_CADA_SEGUNDO,
                   **ambiente) as lab:
        yield lab


@pytest.mark.parametrize("pasta", DE_CODIGO + DE_AMBIENTE, ids=lambda p: p.name)
def test_readme_de_codigo_executado_passa_logo_depois(com_o_codigo_do_readme, terminal, pasta):
    """O código da dica do README, aplicado como está escrito (uma dica que não roda quebra a subida
    ou o autoteste), e os blocos de shell na ordem; o `make confere` do fim logo depois."""
    lab = com_o_codigo_do_readme
    passou(roteiro.fazer_pelo_readme(roteiro.Aluno(pasta, lab, lab.raiz, terminal), roteiro.blocos_que_rodam(pasta)))


@pytest.mark.parametrize("pasta", DE_COLLECTOR, ids=lambda p: p.name)
def test_readme_do_collector_marca_e_diz_o_que_nao_roda_aqui(pasta):
    """Com o receptor local não há Collector: todo bloco de shell do 13 e do 14 está marcado — os do Docker,
    que nada aqui roda, e os da pilha real, que o curso em ordem de aula roda (tests/test_curso_em_ordem.py)
    —, e o texto diz."""
    blocos = [p for p in passos(pasta / "README.md") if p.tipo in ("shell", "fora", "pilha")]
    docker = [p for p in blocos if p.tipo == "fora"]
    assert docker and all("Docker" in p.marca and "docker compose" in p.texto for p in docker), docker
    assert all(p.tipo in ("fora", "pilha") for p in blocos), blocos
    assert [p.texto.strip() for p in blocos if p.tipo == "pilha"][-1] == f"make confere EX={pasta.name[:2]}", blocos
    assert "não rodam na suíte rápida" in (pasta / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("pasta", DE_MEDICAO, ids=lambda p: p.name)
def test_readme_de_medicao_executado_passa_logo_depois(tmp_path, terminal, pasta):
    """O 16 pelo README: os dois `make bench` (numa medição pequena: a suíte não tem 6 min para isso)
    e o `make confere` com a razão que o aluno leria na tabela do passo 3."""
    ambiente = {**os.environ, **MEDICAO_PEQUENA, "BENCH_PASTA": str(tmp_path)}
    antes = autoteste(pasta, "0.9", RAIZ, ambiente)
    assert antes.returncode == 1, explicar(antes)  # nenhuma medição ainda
    aluno = roteiro.Aluno(pasta, None, RAIZ, terminal, extras=ambiente)
    passou(roteiro.fazer_pelo_readme(aluno, roteiro.blocos_que_rodam(pasta)))
    lida = carregar(pasta, "solucao").resposta(aluno.contexto())
    outro = autoteste(pasta, f"{float(lida) + 0.01:.3f}", RAIZ, ambiente)
    assert outro.returncode == 1, explicar(outro)  # outro número


def test_todo_exercicio_tem_o_readme_executado_por_algum_teste():
    executados = (DE_OBSERVACAO + DE_CODIGO + DE_AMBIENTE + DE_CONFIGURAR + DE_COLLECTOR + DE_MEDICAO + DE_GATEWAY
                  + DE_MENSAGENS)
    assert sorted(executados) == EXERCICIOS and len(EXERCICIOS) == 22


@pytest.mark.parametrize("pasta", DE_CODIGO, ids=lambda p: p.name)
def test_autoteste_passa_com_a_solucao_aplicada_conferindo_logo_depois_do_curl(com_solucoes, pasta):
    """A sala cola o curl e o `make confere` juntos. Uma vez só, sem esperar nada antes: o
    autoteste espera o que está a caminho (lotes de 2 s, métricas a cada 3 s) e só então julga."""
    resultado = confere(com_solucoes, pasta, fazer(pasta, com_solucoes))
    assert resultado.returncode == 0, explicar(resultado)
    assert resultado.stdout.count("esperando a telemetria chegar…") <= 1, explicar(resultado)


def test_make_confere_roda_como_o_readme_mostra(intocado):
    resultado = rodar(["make", "--no-print-directory", "-o", ".venv/.instalado", "confere", "EX=01",
                       "RESPOSTA=00000000", f"BIN={sys.prefix}/bin"], cwd=RAIZ,
                      env={**intocado.ambiente, "COLLECTOR_SAUDE_URL": f"http://127.0.0.1:{porta_livre()}/"}, timeout=60)
    assert resultado.returncode == 2, explicar(resultado)  # make repassa o código 1 do autoteste como erro
    assert "✘ o trace informado é de uma compra" in resultado.stdout


# --- exercícios de Collector: a solução no papel, o autoteste em amostras do Jaeger -------------
@pytest.mark.parametrize("pasta", DE_COLLECTOR, ids=lambda p: p.name)
def test_solucao_do_collector_segue_as_regras_da_config_do_laboratorio(pasta):
    from tests import conferir_collector
    from tests.test_docker_estatico import carregar  # com os endereços do compose (${env:…:-padrão})
    solucao = carregar(pasta / "solucao.yaml")
    assert conferir_collector.problemas(solucao) == []
    laboratorio = carregar(RAIZ / "otel-collector" / "config.yaml")
    assert set(solucao["processors"]) > set(laboratorio["processors"])  # a solução acrescenta, não troca
    # E leva junto os tetos da config do laboratório: aplicar a solução não tira a proteção da turma.
    assert solucao["connectors"]["spanmetrics"] == laboratorio["connectors"]["spanmetrics"]


def span_no_formato_do_jaeger(servico, nome, inicio_ns, atributos, trace="4bf92f3577b34da6a3ce929d0e0e4736",
                              span="00f067aa0ba902b7", pai=""):
    """Um span como o /api/v3 do Jaeger o devolve (OTLP/JSON, ids em hex)."""
    return {"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": servico}}]},
            "scopeSpans": [{"scope": {}, "spans": [{
                "traceId": trace, "spanId": span, "parentSpanId": pai, "name": nome, "kind": 2,
                "startTimeUnixNano": str(inicio_ns), "endTimeUnixNano": str(inicio_ns + 10**6),
                "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in atributos.items()]}]}]}


class FonteDoJaeger:
    """FonteDocker com a resposta do Jaeger já dada (o que ela leria de /api/v3/traces)."""

    def __init__(self, resposta: dict):
        from telemetria_local.fontes import spans_da_resposta_do_jaeger
        self._spans = spans_da_resposta_do_jaeger(resposta)

    def spans(self, desde=None, traces_por_servico: int = 100):
        return [s for s in self._spans if desde is None or s["inicio_ns"] >= desde.timestamp() * 10**9]


def registrar_config_aceita(monkeypatch, tmp_path, texto: str, aceita_em: float) -> None:
    """O registro que o make local com a pilha real grava quando o Collector aceita uma config."""
    import json
    from modo_local.pilha_real import CONFIG_ACEITA
    (tmp_path / "pilha").mkdir(exist_ok=True)
    (tmp_path / "pilha" / CONFIG_ACEITA).write_text(json.dumps({"aceita_em": aceita_em, "config": texto}))
    monkeypatch.setenv("TELEMETRIA_LOCAL_PASTA", str(tmp_path))


def test_autoteste_13_le_o_jaeger_e_cobra_os_dois_processadores_na_config_aceita(monkeypatch, tmp_path):
    agora = time.time_ns()
    compra = [span_no_formato_do_jaeger("ordens", "POST /ordens", agora - 10**9, {}),
              span_no_formato_do_jaeger("pagamentos", "pagamentos.decidir", agora - 9 * 10**8,
                                        {"bookstore.pagamento.status": "aprovado"}, span="00f067aa0ba902b9",
                                        pai="00f067aa0ba902b7")]
    admin = span_no_formato_do_jaeger("pagamentos", "PUT /admin/falhas", agora - 5 * 10**8,
                                      {"http.route": "/admin/falhas"}, trace="5" * 32, span="1" * 16)
    solucao = (RAIZ / "exercises" / "13-collector-processadores" / "solucao.yaml").read_text(encoding="utf-8")
    registrar_config_aceita(monkeypatch, tmp_path, solucao, agora / 10**9 - 2)
    conferir = carregar(RAIZ / "exercises" / "13-collector-processadores").conferir
    limpo = conferir(FonteDoJaeger({"resourceSpans": compra}), "")
    assert all(ok for ok, *_ in limpo), limpo
    com_cartao = [dict(compra[0]), span_no_formato_do_jaeger(
        "pagamentos", "pagamentos.decidir", agora - 9 * 10**8, {"bookstore.cartao.final": "1111"},
        span="00f067aa0ba902b9", pai="00f067aa0ba902b7")]
    assert [ok for ok, *_ in conferir(FonteDoJaeger({"resourceSpans": com_cartao + [admin]}), "")] == [
        True, True, False, False]
    # O /admin/falhas e a compra de ANTES da troca não contam (o curl do passo 3 antes de salvar).
    registrar_config_aceita(monkeypatch, tmp_path, solucao, agora / 10**9 - 0.2)
    assert [ok for ok, *_ in conferir(FonteDoJaeger({"resourceSpans": com_cartao + [admin]}), "")] == [
        True, False, False, True]


def test_autoteste_13_metade_da_solucao_o_filter_declarado_e_fora_do_pipeline_e_x(monkeypatch, tmp_path):
    """O Collector aceita um processador declarado e não usado (otelcol validate: código 0) — e o ignora.
    O autoteste lê a config aceita e diz isso, mesmo sem nenhum /admin/falhas para provar."""
    solucao = (RAIZ / "exercises" / "13-collector-processadores" / "solucao.yaml").read_text(encoding="utf-8")
    metade = solucao.replace("processors: [memory_limiter, filter/admin, attributes/dados_pessoais, batch]",
                             "processors: [memory_limiter, attributes/dados_pessoais, batch]")
    assert metade != solucao
    registrar_config_aceita(monkeypatch, tmp_path, metade, time.time() - 2)
    agora = time.time_ns()
    compra = [span_no_formato_do_jaeger("ordens", "POST /ordens", agora - 10**9, {}),
              span_no_formato_do_jaeger("pagamentos", "pagamentos.decidir", agora - 9 * 10**8, {},
                                        span="00f067aa0ba902b9", pai="00f067aa0ba902b7")]
    criterios = carregar(RAIZ / "exercises" / "13-collector-processadores").conferir(
        FonteDoJaeger({"resourceSpans": compra}), "")
    assert [ok for ok, *_ in criterios] == [False, True, True, True]
    assert "filter/admin declarado, mas fora de service.pipelines.traces.processors" in criterios[0].dica


def compra_no_formato_do_jaeger(numero: int, status_http: int, erro: bool = False) -> list[dict]:
    trace, agora = f"{numero:032x}", time.time_ns()
    raiz = span_no_formato_do_jaeger("ordens", "POST /ordens", agora, {}, trace=trace, span=f"{numero:016x}")
    raiz["scopeSpans"][0]["spans"][0]["attributes"].append(
        {"key": "http.response.status_code", "value": {"intValue": str(status_http)}})
    if erro:
        raiz["scopeSpans"][0]["spans"][0]["status"] = {"code": 2}
    return [raiz]


def test_autoteste_14_compara_o_jaeger_com_o_ordens_de_verdade(intocado, monkeypatch, tmp_path):
    import datetime

    import requests
    monkeypatch.setenv("TELEMETRIA_LOCAL_PASTA", str(tmp_path / "sem-registro"))  # o Docker: sem registro da troca
    antes_das_compras = time.time()
    livro = requests.post(intocado.url("livros") + "/livros", timeout=10,
                          json={"titulo": "Livro do teste do 14", "preco": 10, "estoque": 100}).json()["id"]
    for _ in range(20):  # compras de verdade no ordens: é com elas que o autoteste compara
        assert requests.post(intocado.url("ordens") + "/ordens", timeout=10,
                             json={"itens": [{"livro_id": livro, "quantidade": 1}]}).status_code == 201
    monkeypatch.setenv("PORTA_ORDENS", str(intocado.portas["ordens"]))
    exercicio = carregar(RAIZ / "exercises" / "14-tail-sampling")
    conferir = exercicio.conferir
    # A contagem não para numa página: de 7 em 7, as 20 compras (e as dos outros testes) somam o mesmo.
    inicio = datetime.datetime.fromtimestamp(antes_das_compras, datetime.timezone.utc)
    assert exercicio.concluidas_desde(inicio, por_pagina=7) == exercicio.concluidas_desde(inicio) == 20
    amostrado = [*compra_no_formato_do_jaeger(1, 422, erro=True), *compra_no_formato_do_jaeger(2, 201),
                 *compra_no_formato_do_jaeger(3, 201)]
    assert all(ok for ok, *_ in conferir(FonteDoJaeger({"resourceSpans": amostrado}), ""))
    tudo = [span for n in range(1, 40) for span in compra_no_formato_do_jaeger(n, 201)]
    assert [ok for ok, *_ in conferir(FonteDoJaeger({"resourceSpans": tudo}), "")] == [False, True, False]
    # Depois de uma troca de config que veio DEPOIS das compras: nada delas conta, e o ✘ diz quanto falta.
    registrar_config_aceita(monkeypatch, tmp_path, "", time.time() + 1)
    criterios = conferir(FonteDoJaeger({"resourceSpans": amostrado}), "")
    assert [ok for ok, *_ in criterios] == [False, False, False]
    assert "0 concluídas (precisa de 20)" in criterios[1].texto


# --- exercícios do gateway: GATEWAY=true, antes e depois no mesmo laboratório ---------
@pytest.fixture(scope="module")
def com_gateway(tmp_path_factory):
    with ModoLocal(tmp_path_factory.mktemp("telemetria-gateway"), GATEWAY="true", REPLICAS="2",
                   WEB_CONCURRENCY="1", OTEL_BSP_SCHEDULE_DELAY="200") as lab:
        yield lab


@pytest.mark.parametrize("pasta", DE_GATEWAY, ids=lambda p: p.name)
def test_readme_do_gateway_executado_falha_antes_e_passa_logo_depois(com_gateway, terminal, pasta):
    """O autoteste falha antes; depois, os blocos do README na ordem, nas portas deste laboratório (o gateway
    no lugar de 8080, a réplica 2 de ordens no de 8182): as duas compras do 17, o `kill` do 18 como está
    escrito (o `ss` acha o master da réplica), e o `make confere` logo depois (no 18, depois da espera que o
    texto manda, até passar). Um laboratório só, por isso o 17 antes do 18, que mata uma réplica. Os 90 s
    do `make carga` do 18 (o bloco marcado, que não roda aqui) viram a carga pequena do solucao.py, no ar
    enquanto os blocos rodam."""
    antes = confere(com_gateway, pasta)
    assert antes.returncode == 1 and "dica:" in antes.stdout, explicar(antes)
    aluno = roteiro.Aluno(pasta, com_gateway, com_gateway.raiz, terminal)
    fora = [p for p in passos(pasta / "README.md") if p.tipo == "fora"]
    assert all(p.texto.startswith("make carga ") for p in fora), fora  # o que o teste troca é só a carga
    carga = carregar(pasta, "solucao").carga_pelo_gateway(aluno.contexto()) if fora else contextlib.nullcontext()
    with carga:
        passou(roteiro.fazer_pelo_readme(aluno, roteiro.blocos_que_rodam(pasta)))
