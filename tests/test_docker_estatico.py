"""O laboratório em Docker, verificado no papel (não há engine Docker aqui).

Valida o compose contra o schema da Compose Specification, as versões fixadas,
as referências entre pipelines e componentes do Collector, o config do Jaeger
e que compose e modo local rodam o mesmo comando com as mesmas variáveis.
"""
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from modo_local.servicos import PORTAS_PADRAO, ambiente_otel_do_laboratorio, comando_gunicorn

RAIZ = Path(__file__).resolve().parent.parent
SCHEMA = RAIZ.parent / "shared" / "compose-spec.json"
SERVICOS = ("livros", "ordens", "pagamentos")


def carregar(caminho):
    return yaml.safe_load((RAIZ / caminho).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose():
    return carregar("docker-compose.yml")


@pytest.fixture(scope="module")
def collector():
    return carregar("otel-collector/config.yaml")


@pytest.fixture(scope="module")
def jaeger():
    return carregar("jaeger/config.yaml")


def dockerfile(servico):
    return (RAIZ / servico / "Dockerfile").read_text(encoding="utf-8")


# --- compose ---------------------------------------------------------------

def test_compose_valida_no_schema_da_compose_spec(compose):
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} ausente: o schema vem de ../shared, ao lado do projeto")
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(compose)


def test_toda_imagem_tem_versao_fixada(compose):
    imagens = [s["image"] for s in compose["services"].values() if "image" in s]
    imagens += [re.search(r"^FROM (\S+)", dockerfile(s), re.M).group(1) for s in SERVICOS]
    assert len(imagens) == 9
    for imagem in imagens:
        nome, _, tag = imagem.partition(":")
        assert tag and tag != "latest" and re.search(r"\d+\.\d+", tag), imagem


def test_jaeger_e_v2(compose):
    assert compose["services"]["jaeger"]["image"].startswith("jaegertracing/jaeger:2.")


def test_depends_on_aponta_para_servicos_que_existem_com_healthcheck(compose):
    servicos = compose["services"]
    for nome, servico in servicos.items():
        for alvo, regra in servico.get("depends_on", {}).items():
            assert alvo in servicos, f"{nome} depende de {alvo}, que não existe"
            if regra["condition"] == "service_healthy":
                tem_check = "healthcheck" in servicos[alvo] or (
                    alvo in SERVICOS and "HEALTHCHECK" in dockerfile(alvo))
                assert tem_check, f"{nome} espera {alvo} saudável, mas {alvo} não tem healthcheck"


def test_healthchecks_usam_comandos_que_existem_na_imagem(compose):
    # O que cada imagem tem: alpine/busybox têm wget; postgres tem pg_isready;
    # python slim só tem python; o collector (FROM scratch) não tem nada.
    binarios = {"postgres": {"pg_isready"}, "jaegertracing/jaeger": {"wget"}, "prom/prometheus": {"wget"}}
    for nome, servico in compose["services"].items():
        imagem = servico.get("image", "").split(":")[0]
        if imagem == "otel/opentelemetry-collector-contrib":
            assert "healthcheck" not in servico, "o collector não tem shell para rodar um healthcheck"
        elif "healthcheck" in servico:
            comando = servico["healthcheck"]["test"]
            assert comando[0] == "CMD" and comando[1] in binarios[imagem], (nome, comando)
    for servico in SERVICOS:
        check = re.search(r"^HEALTHCHECK .*\n?.*CMD \[\"(\w+)\"", dockerfile(servico), re.M)
        assert check and check.group(1) == "python"
        assert f"127.0.0.1:{PORTAS_PADRAO[servico]}/ready" in dockerfile(servico)


def test_portas_no_host(compose):
    portas = {p.split(":")[0] for s in compose["services"].values() for p in s.get("ports", [])}
    assert portas == {"8081", "8082", "8083", "16686", "9090", "4317", "4318"}


def test_servicos_com_admin_banco_proprio_e_limite_de_memoria(compose):
    total = 0
    for nome, servico in compose["services"].items():
        limite = servico.get("mem_limit") or compose["x-postgres"]["mem_limit"]
        total += int(limite.rstrip("m"))
    assert total <= 1024, f"a pilha pede {total} MiB"
    for nome in SERVICOS:
        ambiente = compose["services"][nome]["environment"]
        assert ambiente["ADMIN_HABILITADO"] == "true"
        assert f"@{nome}-db:5432/{nome}" in ambiente["DATABASE_URL"]
        assert compose["services"][f"{nome}-db"]["volumes"]
    assert set(compose["volumes"]) == {f"{nome}-dados" for nome in SERVICOS}


def test_compose_e_modo_local_rodam_o_mesmo_gunicorn(compose):
    for nome in SERVICOS:
        local = comando_gunicorn(nome)[1:]
        assert compose["services"][nome]["command"] == ["gunicorn", *local]
        assert f'CMD ["gunicorn", "--config", "{nome}/gunicorn.conf.py"]' in dockerfile(nome)
        assert (RAIZ / nome / "gunicorn.conf.py").exists()
        porta = PORTAS_PADRAO[nome]
        assert f"PORT={porta}" in dockerfile(nome) and compose["services"][nome]["ports"] == [f"{porta}:{porta}"]


def test_compose_usa_as_variaveis_otel_do_modo_local(compose):
    lidas_pelo_codigo = set((RAIZ / "bookstore" / "telemetria.py").read_text().split())
    for nome in SERVICOS:
        servico = compose["services"][nome]
        assert servico["env_file"] == ["otel.env"]
        otel = {k for k in servico["environment"] if k.startswith("OTEL_")}
        assert otel == {"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"}
        endpoint = servico["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert endpoint == "http://otel-collector:4318"  # http/protobuf, o protocolo de otel.env
    assert ambiente_otel_do_laboratorio()["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert any("OTEL_EXPORTER_OTLP_PROTOCOL" in palavra for palavra in lidas_pelo_codigo)


# --- Collector -------------------------------------------------------------

def componentes_usados(config, tipo):
    return {c for p in config["service"]["pipelines"].values() for c in p.get(tipo, [])}


def test_collector_pipelines_so_usam_o_que_foi_definido_e_tudo_e_usado(collector):
    conectores = set(collector.get("connectors", {}))
    for tipo, secao in (("receivers", "receivers"), ("processors", "processors"), ("exporters", "exporters")):
        definidos = set(collector[secao]) | conectores if tipo != "processors" else set(collector[secao])
        usados = componentes_usados(collector, tipo)
        assert usados <= definidos, f"{tipo} sem definição: {usados - definidos}"
        assert set(collector[secao]) <= usados, f"{secao} definidos e não usados"
    assert set(collector["service"]["extensions"]) == set(collector["extensions"])


def test_spanmetrics_sai_dos_traces_e_entra_nas_metricas(collector):
    pipelines = collector["service"]["pipelines"]
    assert "spanmetrics" in pipelines["traces"]["exporters"]
    assert "spanmetrics" in pipelines["metrics"]["receivers"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    assert all(p["processors"][0] == "memory_limiter" for p in pipelines.values())


def test_collector_escuta_em_todas_as_interfaces(collector):
    protocolos = collector["receivers"]["otlp"]["protocols"]
    assert protocolos["grpc"]["endpoint"] == "0.0.0.0:4317"
    assert protocolos["http"]["endpoint"] == "0.0.0.0:4318"
    assert collector["extensions"]["health_check"]["endpoint"].startswith("0.0.0.0:")


def test_exportadores_do_collector_apontam_para_servicos_do_compose(collector, compose, jaeger):
    destino = collector["exporters"]["otlp_grpc/jaeger"]["endpoint"]
    host, porta = destino.split(":")
    assert host in compose["services"]
    assert jaeger["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(f":{porta}")
    porta_prometheus = collector["exporters"]["prometheus"]["endpoint"].split(":")[1]
    alvos = carregar("prometheus/prometheus.yml")["scrape_configs"][0]["static_configs"][0]["targets"]
    assert alvos == [f"otel-collector:{porta_prometheus}"]
    assert any("debug" in e for e in componentes_usados(collector, "exporters"))


# --- Jaeger ----------------------------------------------------------------

def test_jaeger_config(jaeger, compose):
    protocolos = jaeger["receivers"]["otlp"]["protocols"]
    assert all(p["endpoint"].startswith("0.0.0.0:") for p in protocolos.values())
    armazenamento = jaeger["extensions"]["jaeger_storage"]
    consulta = jaeger["extensions"]["jaeger_query"]
    assert armazenamento["backends"][consulta["storage"]["traces"]]["memory"]["max_traces"] > 0
    metricas = armazenamento["metric_backends"][consulta["storage"]["metrics"]]["prometheus"]
    assert metricas["endpoint"] == "http://prometheus:9090" and "prometheus" in compose["services"]
    assert metricas["normalize_calls"] and metricas["normalize_duration"]
    assert "healthcheckv2" in jaeger["service"]["extensions"]
    saude = jaeger["extensions"]["healthcheckv2"]
    assert saude["use_v2"] and saude["http"]["endpoint"] == "0.0.0.0:13133"
    assert saude["http"]["status"]["path"] == "/status"
    assert "13133/status" in " ".join(compose["services"]["jaeger"]["healthcheck"]["test"])
    assert jaeger["exporters"]["jaeger_storage_exporter"]["trace_storage"] == consulta["storage"]["traces"]
    assert consulta["http"]["endpoint"] == "0.0.0.0:16686"
