"""A pilha real: Collector, Jaeger v2 e Prometheus construídos do código-fonte por
pilha/construir.sh (`make ferramentas`, em .ferramentas/bin/), rodando as configs do laboratório.

Sem um binário, o teste é pulado com uma linha dizendo o que falta e como tê-lo — exceto com
CI=true, onde binário faltando é FALHA (o `make test` do CI constrói a pilha antes).

Três partes: as configs no papel contra os binários (validate, promtool, e só endereços mudam entre
o compose e o make local); as versões (versoes.env = go.mod = tags do compose); e UM `make local`
com a pilha real (PILHA=real, portas livres, numa cópia do projeto) que os testes de ponta a ponta
dividem, na ordem do arquivo. Os exercícios da pilha real (13 e 14, que trocam a config do Collector, e os
de observação lidos do Jaeger) rodam no `make curso`, em ordem de aula (tests/test_curso_em_ordem.py).
"""
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
import yaml

from autoteste.consultas import completa, compras
from bookstore import config, topologia
from modo_local import pilha_real
from supervisao.portas import porta_livre
from telemetria_local.fontes import FonteDocker, spans_da_resposta_do_jaeger
from tests.apoio import esperar, explicar
from tests.lancador import ModoLocal
from tests.test_telemetria_local import TETO_DA_PARADA_SEGUNDOS

RAIZ = Path(__file__).resolve().parent.parent
BIN = RAIZ / ".ferramentas" / "bin"
CONFIG_COLLECTOR = RAIZ / "otel-collector" / "config.yaml"
CONFIG_JAEGER = RAIZ / "jaeger" / "config.yaml"
CONFIG_PROMETHEUS = RAIZ / "prometheus" / "prometheus.yml"
EXERCICIO_13 = RAIZ / "exercises" / "13-collector-processadores"
EXERCICIO_14 = RAIZ / "exercises" / "14-tail-sampling"
# A config do laboratório é o ponto de partida dos dois exercícios; as soluções, o ponto de chegada.
CONFIGS_DO_COLLECTOR = [CONFIG_COLLECTOR, EXERCICIO_13 / "solucao.yaml", EXERCICIO_14 / "solucao.yaml"]


def binario(nome: str) -> Path:
    caminho = BIN / nome
    if not caminho.exists():
        falta = (f".ferramentas/bin/{nome} ausente: `make ferramentas` o constrói (precisa do Go), ou ponha lá o "
                 "binário oficial da mesma versão (README, \"A pilha real\")")
        if os.environ.get("CI") == "true":
            pytest.fail(f"{falta} (CI=true: binário faltando é falha, não pulo)")
        pytest.skip(falta)
    return caminho


def rodar(*comando, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in comando], capture_output=True, text=True, timeout=timeout)


def versoes() -> dict:
    linhas = (RAIZ / "pilha" / "versoes.env").read_text(encoding="utf-8").splitlines()
    return dict(linha.split("=", 1) for linha in linhas if linha and not linha.startswith("#"))


def requisitos(go_mod: Path) -> dict:
    """{módulo: versão} das linhas de require de um go.mod."""
    pares = {}
    for linha in go_mod.read_text(encoding="utf-8").splitlines():
        partes = linha.strip().removeprefix("require ").split()
        if len(partes) >= 2 and partes[1].startswith("v") and "." in partes[0]:
            pares[partes[0]] = partes[1]
    return pares


# --- versões: um só lugar ----------------------------------------------------------------

def test_versoes_env_e_os_go_mod_da_pilha_concordam():
    v = versoes()
    otelcol = requisitos(RAIZ / "pilha" / "otelcol" / "go.mod")
    do_collector = {m: ver for m, ver in otelcol.items()
                    if m.startswith(("go.opentelemetry.io/collector",
                                     "github.com/open-telemetry/opentelemetry-collector-contrib"))}
    # pkg/ottl do contrib tem numeração estável própria (v1.x), como o construir.sh aceita.
    fora = {m: ver for m, ver in do_collector.items()
            if ver not in (f"v{v['OTELCOL_VERSAO']}", f"v{v['OTELCOL_VERSAO_ESTAVEL']}")
            and not (m.endswith("opentelemetry-collector-contrib/pkg/ottl") and ver.startswith("v1."))}
    assert not fora, f"módulos do Collector fora da release de pilha/versoes.env: {fora}"
    assert otelcol["go.opentelemetry.io/collector/otelcol"] == f"v{v['OTELCOL_VERSAO']}"
    jaeger = requisitos(RAIZ / "pilha" / "jaeger" / "go.mod")
    assert jaeger["github.com/jaegertracing/jaeger"] == v["JAEGER_MODULO"]
    prometheus = requisitos(RAIZ / "pilha" / "prometheus" / "go.mod")
    assert prometheus["github.com/prometheus/prometheus"] == v["PROMETHEUS_MODULO"]


# --- Collector: validate é um ensaio (carrega, valida, monta o grafo, não escuta nada) ---

@pytest.mark.parametrize("config", CONFIGS_DO_COLLECTOR, ids=lambda c: str(c.relative_to(RAIZ)))
def test_collector_real_valida_a_config(config):
    resultado = rodar(binario("otelcol"), "validate", f"--config={config}")
    assert resultado.returncode == 0, resultado.stderr


@pytest.mark.parametrize("troca, erro_esperado", [
    (("limit_mib: 70", "limite_mib: 70"), "limite_mib"),
    (("exporters: [prometheus]", "exporters: [prometheus, otlp_grpc/nao_declarado]"),
     "otlp_grpc/nao_declarado"),
], ids=["chave-errada", "exportador-nao-declarado"])
def test_collector_real_recusa_config_quebrada(tmp_path, troca, erro_esperado):
    texto = CONFIG_COLLECTOR.read_text(encoding="utf-8")
    assert troca[0] in texto
    quebrada = tmp_path / "quebrada.yaml"
    quebrada.write_text(texto.replace(troca[0], troca[1]), encoding="utf-8")
    resultado = rodar(binario("otelcol"), "validate", f"--config={quebrada}")
    assert resultado.returncode != 0, f"validate aceitou a config quebrada:\n{resultado.stderr}"
    assert erro_esperado in resultado.stderr, resultado.stderr


# --- Prometheus -----------------------------------------------------------------------------

def test_o_collector_aceita_um_processador_declarado_e_fora_do_pipeline():
    """Por que o autoteste do 13 lê a config em vigor: o Collector não recusa a metade da solução — ele
    sobe e ignora o processador que ficou fora do pipeline."""
    solucao = (EXERCICIO_13 / "solucao.yaml").read_text(encoding="utf-8")
    metade = solucao.replace("[memory_limiter, filter/admin, attributes/dados_pessoais, batch]",
                             "[memory_limiter, attributes/dados_pessoais, batch]")
    assert metade != solucao
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as arquivo:
        arquivo.write(metade)
        arquivo.flush()
        resultado = rodar(binario("otelcol"), "validate", f"--config={arquivo.name}")
    assert resultado.returncode == 0, resultado.stdout + resultado.stderr


def test_promtool_aceita_o_prometheus_yml():
    resultado = rodar(binario("promtool"), "check", "config", CONFIG_PROMETHEUS)
    assert resultado.returncode == 0, resultado.stdout + resultado.stderr


def test_promtool_recusa_prometheus_yml_quebrado(tmp_path):
    quebrado = tmp_path / "prometheus.yml"
    (tmp_path / "alertas.yml").write_text((RAIZ / "prometheus" / "alertas.yml").read_text(encoding="utf-8"), encoding="utf-8")
    quebrado.write_text(CONFIG_PROMETHEUS.read_text(encoding="utf-8")
                        .replace("scrape_interval: 10s", "scrape_interval: dez"), encoding="utf-8")
    resultado = rodar(binario("promtool"), "check", "config", quebrado)
    assert resultado.returncode != 0 and "dez" in resultado.stdout + resultado.stderr, resultado.stdout


def test_jaeger_real_valida_a_config():
    resultado = rodar(binario("jaeger"), "validate", f"--config={CONFIG_JAEGER}")
    assert resultado.returncode == 0, resultado.stdout + resultado.stderr


def test_jaeger_real_recusa_chave_errada(tmp_path):
    quebrada = tmp_path / "jaeger.yaml"
    texto = CONFIG_JAEGER.read_text(encoding="utf-8")
    assert "max_traces: 800" in texto
    quebrada.write_text(texto.replace("max_traces: 800", "max_tracez: 800"), encoding="utf-8")
    resultado = rodar(binario("jaeger"), "validate", f"--config={quebrada}")
    saida = resultado.stdout + resultado.stderr
    assert resultado.returncode != 0 and "max_tracez" in saida, saida


# --- compose e make local: os mesmos arquivos, só os endereços mudam -------------------------------

REFERENCIA = re.compile(r"\$\{env:([A-Z0-9_]+):-([^}]*)\}")


def resolvida(caminho: Path, ambiente: dict) -> dict:
    """A config como o Collector/Jaeger a lê: cada ${env:NOME:-padrão} vira o valor do ambiente ou o padrão."""
    texto = REFERENCIA.sub(lambda m: ambiente.get(m.group(1), m.group(2)), caminho.read_text(encoding="utf-8"))
    return yaml.safe_load(texto)


def folhas(no, caminho=()) -> dict:
    if isinstance(no, dict):
        return {k: v for chave, filho in no.items() for k, v in folhas(filho, (*caminho, chave)).items()}
    if isinstance(no, list):
        return {k: v for i, filho in enumerate(no) for k, v in folhas(filho, (*caminho, i)).items()}
    return {".".join(map(str, caminho)): no}


ENDERECO = re.compile(r"(http://)?[\w.-]+:\d+(/[\w/.-]*)?")  # host:porta, com o caminho de uma URL


def diferencas(a: dict, b: dict) -> dict:
    fa, fb = folhas(a), folhas(b)
    assert fa.keys() == fb.keys()
    return {chave: (fa[chave], fb[chave]) for chave in fa if fa[chave] != fb[chave]}


@pytest.fixture(scope="module")
def enderecos_locais():
    publicas = {nome: porta_livre() for nome in pilha_real.portas_publicas()}
    internas = {nome: porta_livre() for nome in pilha_real.PORTAS_INTERNAS}
    return pilha_real.enderecos(publicas, internas)


@pytest.mark.parametrize("binario_, arquivo", [("otelcol", CONFIG_COLLECTOR), ("jaeger", CONFIG_JAEGER)],
                         ids=["collector", "jaeger"])
def test_no_make_local_so_os_enderecos_mudam(enderecos_locais, binario_, arquivo):
    # A variável de jaeger/visualizador.yaml (a camada só do make local) é conferida no teste dela, abaixo.
    locais = {nome: valor for nome, valor in enderecos_locais[binario_].items() if nome != "JAEGER_VISUALIZADOR_ENDPOINT"}
    declaradas = config.variaveis_da_config(str(arquivo.relative_to(RAIZ)))
    # O lançador define exatamente as variáveis que o arquivo lê, e cada uma está na tabela do README.
    assert set(locais) == set(declaradas) and set(locais) <= set(config.VARIAVEIS)
    mudou = diferencas(resolvida(arquivo, {}), resolvida(arquivo, locais))
    assert mudou and {chave for chave, _ in declaradas.values()} >= {re.sub(r"\.\d+\.", ".", c) for c in mudou}
    for chave, (no_compose, no_host) in mudou.items():
        if chave.endswith(".port"):  # a telemetria do próprio processo: a porta padrão do Collector
            assert isinstance(no_compose, int) and isinstance(no_host, int), chave
        elif chave.endswith("ui.config_file"):  # o único que não é de rede: o mesmo arquivo, montado no compose
            montagem = f"./{pilha_real.CONFIG_UI_DO_JAEGER.relative_to(pilha_real.RAIZ)}:{no_compose}:ro"
            compose = yaml.safe_load((RAIZ / "docker-compose.yml").read_text(encoding="utf-8"))
            assert montagem in compose["services"]["jaeger"]["volumes"] and no_host == str(pilha_real.CONFIG_UI_DO_JAEGER)
        else:
            assert ENDERECO.fullmatch(str(no_compose)) and ENDERECO.fullmatch(no_host), (chave, no_compose, no_host)
            assert "127.0.0.1:" in no_host, chave


def test_a_camada_do_visualizador_so_acrescenta_um_exportador_ao_pipeline_do_jaeger(enderecos_locais):
    """O Jaeger do make local roda jaeger/config.yaml e, por cima, jaeger/visualizador.yaml: a camada acrescenta
    o exportador para o visualizador e mantém o armazenamento — nada mais muda (as listas de uma segunda config
    substituem as da primeira, então a dela precisa repetir o jaeger_storage_exporter)."""
    camada = yaml.safe_load(pilha_real.CONFIG_JAEGER_VISUALIZADOR.read_text(encoding="utf-8"))
    base = yaml.safe_load(CONFIG_JAEGER.read_text(encoding="utf-8"))
    assert set(camada) == {"exporters", "service"} and set(camada["service"]) == {"pipelines"}
    assert set(camada["service"]["pipelines"]) == {"traces"} and set(camada["service"]["pipelines"]["traces"]) == {"exporters"}
    (novo,) = camada["exporters"]
    assert novo not in base["exporters"]
    assert camada["service"]["pipelines"]["traces"]["exporters"] == [*base["service"]["pipelines"]["traces"]["exporters"], novo]
    assert camada["exporters"][novo]["endpoint"] == "${env:JAEGER_VISUALIZADOR_ENDPOINT}"
    porta = enderecos_locais["jaeger"]["JAEGER_VISUALIZADOR_ENDPOINT"]
    assert ENDERECO.fullmatch(porta) and porta.startswith("127.0.0.1:")


def test_jaeger_real_aceita_a_camada_do_visualizador(enderecos_locais):
    resultado = subprocess.run([str(binario("jaeger")), "validate", f"--config={CONFIG_JAEGER}",
                                f"--config={pilha_real.CONFIG_JAEGER_VISUALIZADOR}"], capture_output=True, text=True,
                               timeout=60, env={**os.environ, **enderecos_locais["jaeger"]})
    assert resultado.returncode == 0, explicar(resultado)


def test_prometheus_local_so_troca_os_enderecos(enderecos_locais):
    alvos = {"otel-collector": enderecos_locais["otelcol"]["COLLECTOR_PROMETHEUS_ENDPOINT"], "collector": "127.0.0.1:1"}
    original = CONFIG_PROMETHEUS.read_text(encoding="utf-8")
    local = pilha_real.prometheus_yml_local(alvos, remote_write="http://127.0.0.1:2/api/v1/write")
    linhas = [(a, b) for a, b in zip(original.splitlines(), local.splitlines()) if a != b]
    assert len(original.splitlines()) == len(local.splitlines()) and len(linhas) == 4, linhas
    compose = yaml.safe_load(original)
    (alvo_dos_servicos,), (alvo_do_collector,) = (job["static_configs"][0]["targets"] for job in compose["scrape_configs"])
    # As regras: no compose, ao lado do prometheus.yml montado; aqui, o mesmo arquivo, pelo caminho em prometheus/.
    (regras,) = compose["rule_files"]
    assert diferencas(compose, yaml.safe_load(local)) == {
        "scrape_configs.0.static_configs.0.targets.0": (alvo_dos_servicos, alvos["otel-collector"]),
        "scrape_configs.1.static_configs.0.targets.0": (alvo_do_collector, "127.0.0.1:1"),
        "remote_write.0.url": (compose["remote_write"][0]["url"], "http://127.0.0.1:2/api/v1/write"),
        "rule_files.0": (regras, str(CONFIG_PROMETHEUS.parent / regras))}
    volumes = yaml.safe_load((RAIZ / "docker-compose.yml").read_text(encoding="utf-8"))["services"]["prometheus"]["volumes"]
    assert f"./prometheus/{regras}:/etc/prometheus/{regras}:ro" in volumes


def test_promtool_testa_os_alertas():
    """Cada alerta dispara quando deve, e só então (prometheus/alertas_test.yml, séries com os nomes do laboratório)."""
    resultado = rodar(binario("promtool"), "test", "rules", RAIZ / "prometheus" / "alertas_test.yml")
    assert resultado.returncode == 0 and "SUCCESS" in resultado.stdout, explicar(resultado)


def test_promtool_reprova_um_alerta_que_nao_dispararia(tmp_path):
    """O teste dos alertas pode falhar: com o limite do p95 acima do que a série mostra, ServicoLento não dispara."""
    for nome in ("alertas.yml", "alertas_test.yml"):
        (tmp_path / nome).write_text((RAIZ / "prometheus" / nome).read_text(encoding="utf-8"), encoding="utf-8")
    regras = tmp_path / "alertas.yml"
    texto = regras.read_text(encoding="utf-8")
    assert texto.count("servico:duracao_ms:p95_1m > 300") == 1
    regras.write_text(texto.replace("servico:duracao_ms:p95_1m > 300", "servico:duracao_ms:p95_1m > 600"), encoding="utf-8")
    resultado = rodar(binario("promtool"), "test", "rules", tmp_path / "alertas_test.yml")
    assert resultado.returncode != 0 and "ServicoLento" in resultado.stdout + resultado.stderr, explicar(resultado)


def test_prometheus_local_roda_o_command_do_compose(tmp_path):
    opcoes = pilha_real.opcoes_do_prometheus(tmp_path / "p.yml", tmp_path / "dados", porta_livre())
    compose = yaml.safe_load((RAIZ / "docker-compose.yml").read_text(encoding="utf-8"))["services"]["prometheus"]
    assert [o.split("=")[0] for o in opcoes[:-1]] == [o.split("=")[0] for o in compose["command"]]
    assert [o for o in opcoes if "retention" in o] == [o for o in compose["command"] if "retention" in o]


def test_os_paineis_locais_rodam_o_command_do_compose(tmp_path):
    """Retenção e memória iguais às do compose; a pasta dos JSON é a mesma que o compose monta."""
    opcoes = pilha_real.opcoes_dos_paineis(tmp_path / "dados", 1)
    compose = yaml.safe_load((RAIZ / "docker-compose.yml").read_text(encoding="utf-8"))["services"]["paineis"]
    assert [o.split("=")[0] for o in opcoes[:-1]] == [o.split("=")[0] for o in compose["command"]]
    assert [o for o in opcoes if "retention" in o or "memory" in o] == [
        o for o in compose["command"] if "retention" in o or "memory" in o]
    assert opcoes[-1] == "-httpListenAddr=127.0.0.1:1"
    (pasta_no_conteiner,) = [o.split("=")[1] for o in compose["command"] if o.startswith("-vmui.customDashboardsPath")]
    assert f"./{pilha_real.PAINEIS.relative_to(RAIZ)}:{pasta_no_conteiner}:ro" in compose["volumes"]
    assert f"-vmui.customDashboardsPath={pilha_real.PAINEIS}" in opcoes


def test_tags_do_compose_sao_as_versoes_construidas():
    """Um lugar só: pilha/versoes.env. O compose repete as tags (o Docker não lê esse arquivo sozinho) e
    este teste falha se uma divergir — a versão que o CI prova é a que o aluno roda no Docker."""
    v = versoes()
    servicos = yaml.safe_load((RAIZ / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    assert servicos["otel-collector"]["image"] == f"otel/opentelemetry-collector-contrib:{v['OTELCOL_VERSAO']}"
    assert servicos["jaeger"]["image"] == f"jaegertracing/jaeger:{v['JAEGER_VERSAO']}"
    assert servicos["prometheus"]["image"] == f"prom/prometheus:v{v['PROMETHEUS_VERSAO']}"
    assert servicos["victorialogs"]["image"] == f"victoriametrics/victoria-logs:v{v['VICTORIALOGS_VERSAO']}"
    assert servicos["paineis"]["image"] == f"victoriametrics/victoria-metrics:v{v['VICTORIAMETRICS_VERSAO']}"


def test_sem_os_binarios_o_make_local_fica_com_o_receptor_e_diz_como_ter_a_pilha(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pilha_real, "BIN", tmp_path)
    monkeypatch.setattr(pilha_real, "go_na_maquina", lambda: None)  # sem o Go: nada a construir
    monkeypatch.setenv("PILHA", "auto")
    assert pilha_real.usar_pilha_real() is False
    linha = capsys.readouterr().out.strip()
    assert "\n" not in linha and "make ferramentas" in linha and "receptor OTLP local" in linha
    monkeypatch.setenv("PILHA", "real")
    with pytest.raises(config.ConfiguracaoInvalida, match="make ferramentas"):
        pilha_real.usar_pilha_real()
    monkeypatch.setenv("PILHA", "docker")
    with pytest.raises(config.ConfiguracaoInvalida, match="auto, real, receptor"):
        pilha_real.usar_pilha_real()


def test_sem_os_binarios_e_com_o_go_o_make_local_constroi_a_pilha_antes(tmp_path, monkeypatch):
    """Um comando só: a saída do construir.sh (uma linha por componente) vai ao terminal e a pilha real sobe.
    O construir.sh aqui é um de teste, que só cria os binários; o de verdade é provado pelo make test."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    construir = tmp_path / "construir.sh"
    construir.write_text("#!/bin/sh\n" + "".join(f"echo '{nome}: construindo... ok em 1 s'; touch {bin_}/{nome}\n"
                                                  for nome in pilha_real.BINARIOS))
    construir.chmod(0o755)
    monkeypatch.setattr(pilha_real, "BIN", bin_)
    monkeypatch.setattr(pilha_real, "CONSTRUIR", construir)
    monkeypatch.setattr(pilha_real, "go_na_maquina", lambda: "/usr/local/go/bin/go")
    monkeypatch.setenv("PILHA", "auto")
    saida = tmp_path / "terminal"
    with open(saida, "w") as terminal:
        assert pilha_real.usar_pilha_real(terminal) is True
    linhas = saida.read_text().splitlines()
    assert "construindo agora" in linhas[0] and "PILHA=receptor" in linhas[0], linhas
    assert [linha.split(":")[0] for linha in linhas[1:]] == list(pilha_real.BINARIOS), linhas
    # O build que falha deixa o receptor, com a linha do porquê.
    construir.write_text("#!/bin/sh\necho 'otelcol: construindo... FALHOU'; exit 1\n")
    for binario_ in bin_.iterdir():
        binario_.unlink()
    with open(saida, "w") as terminal:
        assert pilha_real.usar_pilha_real(terminal) is False
    assert "o build da pilha falhou" in saida.read_text()


# --- um `make local` com a pilha real, dividido pelos testes abaixo (na ordem do arquivo) ----------

def copia_do_projeto(destino: Path) -> Path:
    """O projeto numa pasta própria (os exercícios 13 e 14 editam a config do Collector dela), com os
    binários da pilha emprestados deste (um link: 330 MiB não se copiam)."""
    copia = destino / "projeto"
    shutil.copytree(RAIZ, copia, symlinks=True, ignore=shutil.ignore_patterns(
        ".venv", ".git", ".telemetria", ".dados-locais", "__pycache__", ".pytest_cache", ".ferramentas", ".bench"))
    (copia / ".ferramentas").symlink_to(RAIZ / ".ferramentas")
    return copia


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    for nome in pilha_real.BINARIOS:
        binario(nome)
    pasta = tmp_path_factory.mktemp("pilha-real")
    # Métricas dos serviços a cada 1 s (a suíte não espera os 10 s de otel.env); a pilha, como no compose.
    with ModoLocal(pasta / "telemetria", raiz=copia_do_projeto(pasta), PILHA="real",
                   OTEL_METRIC_EXPORT_INTERVAL="1000") as laboratorio:
        laboratorio.livro = requests.post(laboratorio.url("livros") + "/livros", timeout=10, json={
            "titulo": "Livro da pilha real", "preco": 10, "estoque": 100000}).json()["id"]
        yield laboratorio


def comprar(lab, livro_id=None, trace_id=None, cartao="4111111111111111") -> requests.Response:
    cabecalhos = {"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"} if trace_id else None
    return lab.comprar(livro_id=livro_id or lab.livro, cartao=cartao, cabecalhos=cabecalhos)


def spans_no_jaeger(lab, trace_id: str) -> list[dict]:
    resposta = requests.get(f"{lab.url('jaeger')}/api/v3/traces/{trace_id}", timeout=5)
    return spans_da_resposta_do_jaeger(resposta.json()) if resposta.status_code == 200 else []


def processos_da_pilha(lab) -> dict[str, int]:
    """{binário: pid} dos processos da pilha, achados pelo executável no /proc."""
    achados = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            executavel = os.readlink(f"/proc/{pid}/exe")
            ambiente = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        nome = Path(executavel).name
        if nome in pilha_real.BINARIOS and f"TELEMETRIA_LOCAL_PASTA={lab.pasta_telemetria}".encode() in ambiente:
            achados[nome] = int(pid)
    return achados


@pytest.mark.e2e
def test_make_local_sobe_a_pilha_real_com_os_arquivos_do_compose(lab):
    saida = lab.saida()
    assert "Pilha real" in saida and f"http://127.0.0.1:{lab.portas_da_pilha['jaeger']}" in saida
    pids = processos_da_pilha(lab)
    assert set(pids) == set(pilha_real.BINARIOS), pids
    comandos = {nome: Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0") for nome, pid in pids.items()}
    assert f"--config={lab.raiz / 'otel-collector' / 'config.yaml'}" in comandos["otelcol"]
    assert f"--config={lab.raiz / 'jaeger' / 'config.yaml'}" in comandos["jaeger"]
    # O GOMEMLIMIT do compose vale aqui também (as medições de memória são com ele).
    for nome, servico in (("otelcol", "otel-collector"), ("jaeger", "jaeger")):
        ambiente = Path(f"/proc/{pids[nome]}/environ").read_bytes().split(b"\0")
        esperado = yaml.safe_load((RAIZ / "docker-compose.yml").read_text())["services"][servico]["environment"]
        assert f"GOMEMLIMIT={esperado['GOMEMLIMIT']}".encode() in ambiente
    assert requests.get(lab.url("prometheus") + "/-/ready", timeout=5).status_code == 200


@pytest.mark.e2e
def test_o_prometheus_do_make_local_avalia_os_alertas_de_prometheus_alertas_yml(lab):
    """A cópia do prometheus.yml noutra pasta ainda acha as regras, e cada uma avalia sem erro."""
    esperados = {grupo["name"]: len(grupo["rules"]) for grupo in
                 yaml.safe_load((RAIZ / "prometheus" / "alertas.yml").read_text(encoding="utf-8"))["groups"]}

    def grupos():
        return requests.get(lab.url("prometheus") + "/api/v1/rules", timeout=5).json()["data"]["groups"]
    esperar(lambda: all(regra["health"] != "unknown" for grupo in grupos() for regra in grupo["rules"]) and grupos(),
            30, intervalo=0.5, descricao="a primeira avaliação das regras")
    assert {grupo["name"]: len(grupo["rules"]) for grupo in grupos()} == esperados
    assert all(regra["health"] == "ok" for grupo in grupos() for regra in grupo["rules"]), grupos()


@pytest.mark.e2e
def test_collector_parado_no_meio_da_carga_nao_custa_compra_e_volta(lab):
    status, parar = [], threading.Event()

    def comprador():
        while not parar.is_set():
            status.append(comprar(lab).status_code)

    threads = [threading.Thread(target=comprador) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1)
        antes = sum("Collector de volta" in linha for linha in lab.linhas)
        os.kill(processos_da_pilha(lab)["otelcol"], signal.SIGKILL)
        esperar(lambda: sum("Collector de volta" in linha for linha in lab.linhas) > antes, 20, intervalo=0.1,
                descricao="o Collector voltar")
        time.sleep(1)
    finally:
        parar.set()
        for thread in threads:
            thread.join()
    assert "✘ Collector caiu (morto pelo sinal SIGKILL" in lab.saida()
    assert status and set(status) == {201}, f"{len(status)} compras: {sorted(set(status))}"
    trace_id = secrets.token_hex(16)
    assert comprar(lab, trace_id=trace_id).status_code == 201
    esperar(lambda: completa(spans_no_jaeger(lab, trace_id)), 15, intervalo=0.2,
            descricao="o trace de uma compra depois da volta do Collector chegar ao Jaeger")


@pytest.mark.e2e
def test_uma_compra_e_um_trace_no_jaeger_e_o_tempo_ate_ele(lab):
    """20 compras, cada uma com o trace_id escolhido aqui; o tempo da resposta até o trace inteiro
    (3 serviços + SQL) responder em /api/v3/traces/{id}, medido por um leitor que consulta sem parar."""
    respondidas: dict[str, float] = {}
    achadas: dict[str, float] = {}
    fim_das_compras = threading.Event()

    def ler():
        while not fim_das_compras.is_set() or len(achadas) < len(respondidas):
            for trace_id, quando in list(respondidas.items()):
                if trace_id not in achadas and completa(spans_no_jaeger(lab, trace_id)):
                    achadas[trace_id] = time.monotonic() - quando
            if time.monotonic() - inicio > 30:
                return
            time.sleep(0.01)

    inicio = time.monotonic()
    leitor = threading.Thread(target=ler)
    leitor.start()
    for _ in range(20):
        trace_id = secrets.token_hex(16)
        assert comprar(lab, trace_id=trace_id).status_code == 201
        respondidas[trace_id] = time.monotonic()
        time.sleep(0.1)
    fim_das_compras.set()
    leitor.join()
    assert achadas.keys() == respondidas.keys(), f"{len(achadas)} de {len(respondidas)} no Jaeger"
    grupo = spans_no_jaeger(lab, next(iter(respondidas)))
    assert len(compras(grupo)) == 1 and {s["servico"] for s in grupo} == set(topologia.SERVICOS)
    tempos = sorted(achadas.values())
    print(f"\ncompra → trace inteiro no Jaeger: p50 {statistics.median(tempos):.2f} s, "
          f"mín {tempos[0]:.2f} s, máx {tempos[-1]:.2f} s (20 compras; lote de 1 s do SDK + batch do Collector)")


@pytest.mark.e2e
def test_logs_otlp_chegam_ao_victorialogs_pelo_collector(lab):
    """O pipeline de logs do Collector exporta para o VictoriaLogs: os registros da compra, achados pelo
    trace_id na API LogsQL, com o serviço e o corpo de cada linha (os do log de ordens: 'ordem N → …')."""
    trace_id = secrets.token_hex(16)
    resposta = comprar(lab, trace_id=trace_id)
    assert resposta.status_code == 201
    fonte = FonteDocker(jaeger=lab.url("jaeger"), prometheus=lab.url("prometheus"), victorialogs=lab.url("victorialogs"))
    ordem = resposta.json()["id"]
    registros = esperar(lambda: (r := fonte.logs(trace_id)) and any(x["corpo"] == f"ordem {ordem} → concluida" for x in r)
                        and r, 15, intervalo=0.3, descricao=f"os logs da compra {trace_id} no VictoriaLogs")
    assert {r["trace_id"] for r in registros} == {trace_id}
    assert "ordens" in {r["recurso"].get("service.name") for r in registros}
    assert [r["corpo"] for r in registros if r["corpo"].startswith(f"ordem {ordem} ")] == [
        f"ordem {ordem} → {status}" for status in ("criada", "estoque_reservado", "pagamento_aprovado", "concluida")]


@pytest.mark.e2e
def test_make_traces_le_o_jaeger(lab):
    trace_id = secrets.token_hex(16)
    assert comprar(lab, trace_id=trace_id).status_code == 201
    esperar(lambda: completa(spans_no_jaeger(lab, trace_id)), 15, intervalo=0.2, descricao="o trace no Jaeger")
    make = ["make", "--no-print-directory", "-o", ".venv/.instalado", "traces", f"BIN={sys.prefix}/bin"]
    lista = subprocess.run([*make, "N=50"], cwd=RAIZ, env=lab.ambiente, capture_output=True, text=True, timeout=60)
    assert lista.returncode == 0 and f"trace {trace_id} POST /ordens 201" in lista.stdout, explicar(lista)
    arvore = subprocess.run([*make, f"TRACE={trace_id[:12]}"], cwd=RAIZ, env=lab.ambiente, capture_output=True,
                            text=True, timeout=60)
    assert arvore.returncode == 0 and arvore.stdout.startswith(f"trace {trace_id}"), explicar(arvore)
    assert "pagamentos: POST /pagamentos" in arvore.stdout


@pytest.mark.e2e
def test_monitor_do_jaeger_le_o_spanmetrics_no_prometheus(lab):
    """spanmetrics (Collector) → Prometheus (traces_span_metrics_calls_total) → Jaeger /api/metrics/calls,
    a API da aba Monitor; e as métricas de negócio bookstore_* no Prometheus. Com os intervalos do compose
    (spanmetrics a cada 15 s, raspagem a cada 10 s), ~35 s depois do último reinício do Collector: por isso
    os testes que o reiniciam vêm primeiro, e este e o diagnóstico por último."""
    def consulta(promql):
        corpo = requests.get(lab.url("prometheus") + "/api/v1/query", params={"query": promql}, timeout=5).json()
        return corpo["data"]["result"]

    def pontos():
        comprar(lab)
        corpo = requests.get(lab.url("jaeger") + "/api/metrics/calls", timeout=5, params={
            "service": "ordens", "endTs": int(time.time() * 1000), "lookback": 600000, "step": 5000,
            "ratePer": 60000}).json()
        return [p for m in corpo.get("metrics") or [] for p in m["metricPoints"]
                if (p["gaugeValue"].get("doubleValue") or 0) > 0]

    esperar(lambda: consulta('traces_span_metrics_calls_total{service_name="ordens"}'), 40, intervalo=1,
            descricao="traces_span_metrics_calls_total de ordens no Prometheus")
    assert esperar(pontos, 40, intervalo=2, descricao="pontos de taxa de ordens em /api/metrics/calls")
    nomes = {serie["metric"]["__name__"] for serie in consulta('{__name__=~"bookstore_.+"}')}
    assert {"bookstore_ordens_total", "bookstore_pagamentos_total"} <= nomes, nomes


def _pedido_otlp(servico: str, spans) -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value=servico))]),
        scope_spans=[ScopeSpans(spans=spans)])]).SerializeToString()


def _span(trace_id: bytes, nome: str, atributos: dict | None = None):
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.trace.v1.trace_pb2 import Span
    agora = time.time_ns()
    return Span(trace_id=trace_id, span_id=secrets.token_bytes(8), name=nome, kind=Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=agora, end_time_unix_nano=agora + 1_000_000,
                attributes=[KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in (atributos or {}).items()])


def _mandar_otlp(lab, corpo: bytes) -> requests.Response:
    """Um pedido OTLP/HTTP protobuf ao Collector do laboratório, como o SDK de um serviço o manda."""
    return requests.post(f"http://127.0.0.1:{lab.portas_otlp['http']}/v1/traces", data=corpo, timeout=60,
                         headers={"Content-Type": "application/x-protobuf"})


@pytest.mark.e2e
def test_um_nome_de_span_por_id_nao_explode_as_series_do_spanmetrics(lab):
    """O erro que o exercício 04 convida: 2000 spans com um nome cada, num serviço, viram no máximo o teto
    de séries da config (o resto numa série otel_metric_overflow) — e as séries dos outros não mudam."""
    teto = yaml.safe_load((lab.raiz / "otel-collector" / "config.yaml").read_text(encoding="utf-8"))[
        "connectors"]["spanmetrics"]["aggregation_cardinality_limit"]
    servico = "aluno-descuidado"
    spans = [_span(secrets.token_bytes(16), f"saga.gravar_reserva {i}") for i in range(2000)]
    resposta = _mandar_otlp(lab, _pedido_otlp(servico, spans))
    assert resposta.status_code == 200, resposta.text

    def series(promql: str) -> list:
        return requests.get(lab.url("prometheus") + "/api/v1/query", params={"query": promql},
                            timeout=5).json()["data"]["result"]
    # A série do transbordo não tem os atributos das outras (nem service_name): o serviço vem do resource (job).
    esperar(lambda: series(f'traces_span_metrics_calls_total{{job="{servico}",otel_metric_overflow="true"}}'), 60,
            intervalo=1, descricao=f"a série do transbordo de {servico} no Prometheus")
    (contagem,) = series(f'count(traces_span_metrics_calls_total{{job="{servico}"}})')
    assert int(contagem["value"][1]) <= teto + 1, contagem


@pytest.mark.e2e
def test_um_pedido_otlp_grande_demais_e_recusado_a_quem_o_mandou_e_o_grande_mas_valido_chega_inteiro(lab):
    """Um span com um atributo de 15 MiB é recusado na entrada do Collector (o remetente vê o erro); três
    pedidos seguidos de 3000 spans (~1,8 MiB cada, como os de três colegas) são aceitos e chegam inteiros
    ao Jaeger — o lote que o Collector monta juntando-os não passa do que o Jaeger recebe."""
    enorme = _pedido_otlp("aluno-enorme", [_span(secrets.token_bytes(16), "anexo", {"arquivo": "x" * 15 * 2**20})])
    resposta = _mandar_otlp(lab, enorme)
    assert resposta.status_code == 400 and b"request body too large" in resposta.content, resposta.content[:300]
    trace_id = secrets.token_bytes(16)
    grandes = [_pedido_otlp(f"colega-{n}", [_span(trace_id, f"item {i % 10}", {"dado": "y" * 560})
                                            for i in range(3000)]) for n in range(3)]
    assert all(2**20 < len(grande) < 2 * 2**20 for grande in grandes)
    respostas = [_mandar_otlp(lab, grande) for grande in grandes]
    assert [r.status_code for r in respostas] == [200] * 3, respostas[0].text[:300]
    vistos = []

    def todos():
        vistos.append(len(spans_no_jaeger(lab, trace_id.hex())))
        return vistos[-1] >= 9000
    try:
        esperar(todos, 60, intervalo=2)
    except AssertionError:
        raise AssertionError(f"dos 9000 spans, o Jaeger mostrou {vistos[-5:]}; o fim do log do Collector:\n"
                             + (lab.pasta_telemetria / "pilha" / "otelcol.log").read_text()[-3000:]) from None
    assert vistos[-1] == 9000


@pytest.mark.e2e
def test_uma_rajada_de_pedidos_enormes_nao_passa_do_limite_de_memoria_do_collector(lab):
    """16 pedidos de 15 MiB, 8 ao mesmo tempo: o Collector para de ler cada um nos 2 MiB, e o pico de
    memória dele (VmHWM) fica abaixo do mem_limit do compose — num cgroup, passar dele é o kill do kernel."""
    from concurrent.futures import ThreadPoolExecutor

    from ferramentas.medir_pilha import mib
    from supervisao.proc import pico_mib
    limite = mib(yaml.safe_load((RAIZ / "docker-compose.yml").read_text(encoding="utf-8"))["services"][
        "otel-collector"]["mem_limit"])
    enorme = _pedido_otlp("aluno-enorme", [_span(secrets.token_bytes(16), "anexo", {"arquivo": "x" * 15 * 2**20})])
    antes = pico_mib(processos_da_pilha(lab)["otelcol"])
    with ThreadPoolExecutor(8) as rajada:
        codigos = {resposta.status_code for resposta in rajada.map(lambda _: _mandar_otlp(lab, enorme), range(16))}
    pico = pico_mib(processos_da_pilha(lab)["otelcol"])
    assert codigos == {400} and pico < limite, (
        codigos, f"pico de {pico:.0f} MiB (antes da rajada, {antes:.0f}), limite {limite:.0f} MiB")


@pytest.mark.e2e
def test_o_prometheus_so_libera_cors_para_paginas_da_propria_maquina(lab):
    """Uma página de outro site, aberta no navegador do aluno, não lê a API do Prometheus (o navegador só
    entrega a resposta com o Access-Control-Allow-Origin); uma da própria máquina lê."""
    def origem_liberada(origem: str) -> str | None:
        return requests.get(lab.url("prometheus") + "/api/v1/query", params={"query": "up"}, timeout=5,
                            headers={"Origin": origem}).headers.get("Access-Control-Allow-Origin")
    assert origem_liberada("https://um-site-qualquer.example") is None
    painel = lab.url("paineis").replace("127.0.0.1", "localhost")
    assert origem_liberada(painel) == painel


@pytest.mark.e2e
def test_make_diagnostico_tudo_certo_na_pilha_real(lab):
    def rodada():
        resultado = subprocess.run([sys.executable, "-m", "ferramentas.diagnostico"], cwd=lab.raiz, env=lab.ambiente,
                                   capture_output=True, text=True, timeout=60)
        return resultado if resultado.returncode == 0 else None
    resultado = esperar(rodada, 45, intervalo=2, descricao="o make diagnostico todo ✔")
    assert "✘" not in resultado.stdout and "pilha com Collector, Jaeger e Prometheus" in resultado.stdout
    assert resultado.stdout.count("✔") >= 12, resultado.stdout


@pytest.mark.e2e
def test_toda_consulta_promql_das_docs_roda_no_prometheus_real(lab):
    """Cada consulta PromQL que README e exercícios mandam colar no Prometheus é aceita por ele; as das métricas
    que o laboratório já tem sem exercício (as ordens e o spanmetrics) dão séries depois de uma compra."""
    from tests.test_documentacao import DOCUMENTOS, trechos_de_codigo
    consultas = {trecho for documento in DOCUMENTOS for trecho in trechos_de_codigo(documento.read_text(encoding="utf-8"))
                 if re.match(r"(sum|histogram_quantile|rate|increase|count)\b.*\(", trecho)}
    assert len(consultas) >= 5, consultas
    assert comprar(lab).status_code == 201

    def resultado(promql):
        corpo = requests.get(lab.url("prometheus") + "/api/v1/query", params={"query": promql}, timeout=5).json()
        assert corpo["status"] == "success", (promql, corpo)
        return corpo["data"]["result"]
    # bookstore_livros_vendidos_total e bookstore_ordem_exemplares_* nascem no exercício 06.
    da_base = [c for c in consultas if "bookstore_ordens_total" in c or "traces_span_metrics" in c]
    assert da_base
    for promql in sorted(consultas):
        resultado(promql)
    for promql in da_base:
        esperar(lambda: resultado(promql), 60, intervalo=2, descricao=f"séries para {promql}")


@pytest.mark.e2e
def test_make_metricas_le_o_prometheus_na_pilha_real(lab):
    """Com a pilha real no ar, `make metricas` lista o que o Prometheus tem (não o armazém do receptor local,
    vazio neste modo), com o tipo e o serviço de cada métrica."""
    assert comprar(lab).status_code == 201

    def listadas():
        resultado = subprocess.run([sys.executable, "-m", "telemetria_local", "--metricas"], capture_output=True,
                                   text=True, env=lab.ambiente, timeout=60)
        linhas = {linha.split()[0]: linha.split()[1:] for linha in resultado.stdout.splitlines() if linha.strip()}
        return resultado if resultado.returncode == 0 and "bookstore_ordens_total" in linhas else None
    resultado = esperar(listadas, 40, intervalo=1, descricao="bookstore_ordens_total no make metricas")
    linha = next(linha for linha in resultado.stdout.splitlines() if linha.startswith("bookstore_ordens_total "))
    assert linha.split()[1:] == ["contador", "ordens"], linha
    assert f"{lab.url('prometheus')}/query" in resultado.stdout


@pytest.mark.e2e
def test_o_terminal_do_make_local_nomeia_quem_passou_do_teto_de_series(lab):
    """A linha de modo_local/limites.py (a cada 15 s). Perto do fim do módulo (antes do Ctrl-C que para o
    laboratório): o nome de span por id do teste do spanmetrics já transbordou e a linha já saiu; rodado
    sozinho, este teste transborda um serviço."""
    servico = "aluno-descuidado"
    if not lab.esperar_linha(f"⚠ {servico} passou do teto de séries", 0.1):
        spans = [_span(secrets.token_bytes(16), f"saga.gravar_reserva {i}") for i in range(200)]

        def mandou() -> bool:  # o Collector pode estar reiniciando (um teste de antes trocou a config)
            try:
                return _mandar_otlp(lab, _pedido_otlp(servico, spans)).status_code == 200
            except requests.ConnectionError:
                return False
        esperar(mandou, 30, intervalo=1, descricao="o Collector aceitar os 200 spans")
    aviso = lab.esperar_linha(f"⚠ {servico} passou do teto de séries", 60)
    assert aviso and "otel_metric_overflow" in aviso and "exercício 04" in aviso, lab.saida()[-3000:]


@pytest.mark.e2e
def test_ctrl_c_para_a_pilha_real_dentro_do_teto(lab):
    # Para o laboratório do módulo: fica depois de todo teste que usa `lab` (o pytest roda na ordem do arquivo).
    pids = processos_da_pilha(lab)
    segundos = lab.parar(signal.SIGINT)
    assert lab.processo.returncode == 0 and "Tudo parado." in lab.saida()
    # O projeto soma 3 s (PRAZO_PARA_PARAR_SEGUNDOS dos serviços e da pilha); com outro laboratório nas
    # 2 CPUs e os seis processos da pilha (os painéis incluídos) medimos 4,7 s. O teto é o dos outros testes
    # de parada: pega o que importa, um processo que não para e espera o SIGKILL (8 s).
    assert segundos <= TETO_DA_PARADA_SEGUNDOS, f"{segundos:.1f} s"
    assert not [pid for pid in pids.values() if Path(f"/proc/{pid}").exists()]


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="PR_SET_PDEATHSIG e /proc são do Linux")
def test_sigkill_no_lancador_nao_deixa_a_pilha_para_tras(tmp_path):
    """Só a pilha (o resto do make local já tem o teste dele, em test_telemetria_local.py): um processo
    que a sobe e morre com SIGKILL leva os três junto."""
    for nome in pilha_real.BINARIOS:
        binario(nome)
    ambiente = {**ModoLocal(tmp_path).ambiente, "PILHA": "real"}
    lancador = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from modo_local.pilha_real import PilhaReal\n"
        f"PilhaReal(Path({str(tmp_path / 'pilha')!r})).iniciar(); print('pronta', flush=True); time.sleep(60)")],
        cwd=RAIZ, env=ambiente, stdout=subprocess.PIPE, text=True)
    try:
        assert lancador.stdout.readline().strip() == "pronta"
        from tests.test_telemetria_local import descendentes, vivo
        filhos = descendentes(lancador.pid)
        assert len(filhos) >= 3
        lancador.kill()
        esperar(lambda: not any(map(vivo, filhos)), 5, intervalo=0.05, descricao="a pilha morrer com o lançador")
    finally:
        lancador.kill()
        lancador.wait()


def test_porta_da_pilha_ocupada_diz_quem_a_segura(tmp_path):
    import socket
    with socket.socket() as ocupante:
        ocupante.bind(("127.0.0.1", 0))
        ocupante.listen()
        porta = ocupante.getsockname()[1]
        ambiente = {**ModoLocal(tmp_path).ambiente, "PILHA": "real", "PORTA_JAEGER": str(porta)}
        if pilha_real.faltando():
            binario(pilha_real.faltando()[0])
        resultado = subprocess.run([sys.executable, "-m", "modo_local"], cwd=RAIZ, env=ambiente, capture_output=True,
                                   text=True, timeout=30)
    assert resultado.returncode == 1, explicar(resultado)
    assert f"✘ a porta {porta} já está em uso por pid {os.getpid()}" in resultado.stderr
