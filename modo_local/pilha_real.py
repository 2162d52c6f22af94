"""A pilha real no `make local`: o Collector, o Jaeger, o Prometheus e o VictoriaLogs do compose, e o
visualizador de traces, sem Docker.

Os binários vêm de `pilha/construir.sh` (`make ferramentas`), em `.ferramentas/bin/`. Cada um roda
o MESMO arquivo de configuração do compose — `otel-collector/config.yaml`, `jaeger/config.yaml` —
e só os endereços mudam: as configs leem cada endereço de `${env:NOME:-o do compose}`, e aqui
essas variáveis apontam para 127.0.0.1 (as portas públicas são as da topologia; as internas,
que no compose ficam na rede do Docker, são portas livres). O Prometheus não expande variáveis
nos alvos: ele roda uma cópia do `prometheus/prometheus.yml` em que só o alvo muda. O GOMEMLIMIT
do Collector e do Jaeger e as opções do Prometheus e do VictoriaLogs vêm do `docker-compose.yml`.

O que o aluno abre no navegador: a interface do próprio Prometheus (:9090, construída do módulo dele
com npm pelo construir.sh), a cascata de cada trace no visualizador (otel-desktop-viewer, :8000) e os
logs no VictoriaLogs (:9428). A interface do Jaeger não vem no módulo Go dele (só no Docker): aqui o
Jaeger serve a API, e `jaeger/visualizador.yaml` o faz repassar ao visualizador cada trace que recebe —
o que os pipelines do Collector exportam, depois dos processadores dos exercícios 13 e 14.

Como o `restart: unless-stopped` do compose, um processo que cai volta sozinho (com uma linha no
terminal). Salvar `otel-collector/config.yaml` reinicia o Collector com ela, depois de um
`otelcol validate` (o `docker compose restart otel-collector` dos exercícios 13 e 14); se ela não
vale, o Collector segue com a anterior e o erro aparece no terminal.

Os três morrem com o lançador (PR_SET_PDEATHSIG, como os serviços); os logs deles ficam em
`<.telemetria>/pilha/*.log` (a saída do `debug/logs` do Collector encheria o terminal).
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bookstore import config
from bookstore.config import RAIZ
from supervisao.filho import Filho, parar_juntos
from supervisao.portas import porta_livre
from supervisao.vigiado import Vigiado
from telemetria_local.armazem import Armazem

from .limites import VigiaDosLimites

BIN = RAIZ / ".ferramentas" / "bin"
CONSTRUIR = RAIZ / "pilha" / "construir.sh"
BINARIOS = ("otelcol", "jaeger", "prometheus", "victoria-logs", "victoria-metrics", "otel-desktop-viewer")
PAINEIS = RAIZ / "paineis"  # os JSON dos painéis (a vmui do VictoriaMetrics os lê a cada carga da página)
CONFIG_COLLECTOR = RAIZ / "otel-collector" / "config.yaml"
CONFIG_JAEGER = RAIZ / "jaeger" / "config.yaml"
CONFIG_JAEGER_VISUALIZADOR = RAIZ / "jaeger" / "visualizador.yaml"  # só no make local (não há visualizador no compose)
CONFIG_UI_DO_JAEGER = RAIZ / "jaeger" / "ui.json"
CONFIG_PROMETHEUS = RAIZ / "prometheus" / "prometheus.yml"
COMPOSE = RAIZ / "docker-compose.yml"
MODOS = ("auto", "real", "receptor")
PRAZO_PARA_PARAR_SEGUNDOS = 1.5  # a pilha para depois dos serviços; o Ctrl-C inteiro cabe em 3 s
COMO_CONSTRUIR = "`make ferramentas` a constrói (precisa do Go; veja o README)"
# A interface web do Prometheus (construída pelo construir.sh com npm): o binário sem builtinassets a serve
# de static/mantine-ui relativo à pasta em que roda, então o Prometheus roda nesta pasta.
INTERFACE_DO_PROMETHEUS = RAIZ / ".ferramentas" / "interface-do-prometheus"
SEM_A_INTERFACE_DO_PROMETHEUS = "a interface web não foi construída (make ferramentas; precisa do Node/npm)"
TETO_DO_VISUALIZADOR = "64MB"  # o --db-max-size do otel-desktop-viewer (padrão: 512MB em memória)


def faltando() -> list[str]:
    return [nome for nome in BINARIOS if not (BIN / nome).exists()]


def interface_do_prometheus() -> bool:
    return (INTERFACE_DO_PROMETHEUS / "static" / "mantine-ui" / "index.html").exists()


def go_na_maquina() -> str | None:
    """O go que o construir.sh usaria (o do PATH ou o do instalador oficial), se houver."""
    return shutil.which("go") or next((str(p) for p in [Path("/usr/local/go/bin/go")] if p.exists()), None)


def construir_antes(saida=None) -> bool:
    """Um comando só até o laboratório inteiro: sem os binários e com o Go na máquina, o make local constrói a
    pilha antes (pilha/construir.sh, a saída dele no terminal: uma linha por componente, com o tempo previsto).
    Devolve se ela ficou pronta; se o build falhar, o make local segue com o receptor, dizendo por quê."""
    saida = saida or sys.stdout
    print("A pilha real (Collector, Jaeger, Prometheus, VictoriaLogs, visualizador) ainda não foi construída: "
          "construindo agora com pilha/construir.sh — numa máquina nova, ~20 min; da próxima vez, nada. "
          "(PILHA=receptor pula isto.)", file=saida, flush=True)
    resultado = subprocess.run([str(CONSTRUIR)], stdout=saida, stderr=subprocess.STDOUT)
    if resultado.returncode != 0 or faltando():
        print(f"✘ o build da pilha falhou (acima); seguindo com o receptor OTLP local. {COMO_CONSTRUIR}.",
              file=saida, flush=True)
        return False
    return True


def usar_pilha_real(saida=None) -> bool:
    """PILHA=real|receptor|auto. No auto, a pilha real quando os binários estão lá; sem eles e com o Go na
    máquina, ela é construída antes; sem o Go, o receptor local, com uma linha dizendo como ter a pilha real."""
    pedido = config.ler("PILHA").strip().lower()
    if pedido not in MODOS:
        raise config.ConfiguracaoInvalida(f"PILHA={pedido}: use {', '.join(MODOS)}")
    if pedido == "receptor":
        return False
    if faltando() and pedido == "auto" and go_na_maquina():
        return construir_antes(saida)
    if faltam := faltando():
        if pedido == "real":
            raise config.ConfiguracaoInvalida(f"PILHA=real, mas falta {', '.join(faltam)} em {BIN}: {COMO_CONSTRUIR}")
        print(f"Pilha real (Collector, Jaeger, Prometheus) ausente de .ferramentas/bin/: {COMO_CONSTRUIR}. "
              "Seguindo com o receptor OTLP local.", file=saida or sys.stdout)
        return False
    return True


# As portas que no compose ficam na rede do Docker: aqui, portas livres de 127.0.0.1 a cada início.
PORTAS_INTERNAS = ("jaeger-otlp-grpc", "jaeger-otlp-http", "jaeger-saude", "jaeger-query-grpc", "jaeger-telemetria",
                   "collector-prometheus", "collector-telemetria", "visualizador-otlp-grpc", "visualizador-otlp-http")


def portas_publicas() -> dict[str, int]:
    """As portas que o aluno usa (as do compose, ou PORTA_*): OTLP, saúde do Collector, Jaeger, Prometheus,
    o visualizador de traces, o VictoriaLogs e os painéis."""
    return {nome: config.porta(nome) for nome in ("otlp-grpc", "otlp-http", "collector-saude", "jaeger",
                                                     "prometheus", "visualizador", "victorialogs", "paineis")}


def do_compose(servico: str) -> dict:
    """O serviço como o docker-compose.yml o declara (PyYAML vem com o venv do make)."""
    import yaml
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"][servico]


def enderecos(publicas: dict[str, int], internas: dict[str, int]) -> dict[str, dict[str, str]]:
    """As variáveis de endereço de cada config (as mesmas que bookstore/config.py acha nos arquivos)."""
    local = "127.0.0.1"
    return {
        "otelcol": {
            "COLLECTOR_OTLP_GRPC_ENDPOINT": f"{local}:{publicas['otlp-grpc']}",
            "COLLECTOR_OTLP_HTTP_ENDPOINT": f"{local}:{publicas['otlp-http']}",
            "COLLECTOR_SAUDE_ENDPOINT": f"{local}:{publicas['collector-saude']}",
            "COLLECTOR_JAEGER_ENDPOINT": f"{local}:{internas['jaeger-otlp-grpc']}",
            "COLLECTOR_PROMETHEUS_ENDPOINT": f"{local}:{internas['collector-prometheus']}",
            "COLLECTOR_TELEMETRIA_PORTA": str(internas["collector-telemetria"]),
            "COLLECTOR_VICTORIALOGS_URL": f"http://{local}:{publicas['victorialogs']}",
        },
        "jaeger": {
            "JAEGER_OTLP_GRPC_ENDPOINT": f"{local}:{internas['jaeger-otlp-grpc']}",
            "JAEGER_OTLP_HTTP_ENDPOINT": f"{local}:{internas['jaeger-otlp-http']}",
            "JAEGER_SAUDE_ENDPOINT": f"{local}:{internas['jaeger-saude']}",
            "JAEGER_UI_ENDPOINT": f"{local}:{publicas['jaeger']}",
            "JAEGER_QUERY_GRPC_ENDPOINT": f"{local}:{internas['jaeger-query-grpc']}",
            "JAEGER_PROMETHEUS_URL": f"http://{local}:{publicas['prometheus']}",
            "JAEGER_TELEMETRIA_PORTA": str(internas["jaeger-telemetria"]),
            # Não é endereço de rede: o arquivo da UI, montado em /etc/jaeger/ no contêiner, aqui no projeto.
            "JAEGER_UI_CONFIG": str(CONFIG_UI_DO_JAEGER),
            # Só de jaeger/visualizador.yaml: o OTLP/gRPC do visualizador, que fica numa porta interna.
            "JAEGER_VISUALIZADOR_ENDPOINT": f"{local}:{internas['visualizador-otlp-grpc']}",
        },
    }


def prometheus_yml_local(alvos: dict[str, str], remote_write: str) -> str:
    """O prometheus/prometheus.yml com os endereços do compose trocados pelos daqui: o alvo de cada job
    ({job_name: "127.0.0.1:…"}) e a URL do remote_write; e, como a cópia fica noutra pasta, cada arquivo de
    regras (relativo ao prometheus.yml) pelo caminho dele em prometheus/. O resto é o mesmo arquivo, byte a byte."""
    import yaml
    texto = CONFIG_PROMETHEUS.read_text(encoding="utf-8")
    config_compose = yaml.safe_load(texto)
    for regras in config_compose.get("rule_files", []):
        linha = f"  - {regras}\n"
        assert texto.count(linha) == 1, f"{regras} não aparece uma vez só em {CONFIG_PROMETHEUS}"
        texto = texto.replace(linha, f"  - {CONFIG_PROMETHEUS.parent / regras}\n")
    trocas = {}
    for job in config_compose["scrape_configs"]:
        (original,) = job["static_configs"][0]["targets"]
        trocas[original] = alvos[job["job_name"]]
    (escrita,) = config_compose["remote_write"]
    trocas[escrita["url"]] = remote_write
    for original, local in trocas.items():
        assert texto.count(f'"{original}"') == 1, f"{original} não aparece uma vez só em {CONFIG_PROMETHEUS}"
        texto = texto.replace(f'"{original}"', f'"{local}"')
    return texto


def opcoes_do_compose(servico: str, trocas: dict[str, str]) -> list[str]:
    """O `command` do serviço no compose, com os caminhos do contêiner trocados pelos daqui."""
    opcoes = []
    for opcao in do_compose(servico)["command"]:
        nome = opcao.split("=", 1)[0]
        opcoes.append(f"{nome}={trocas[nome]}" if nome in trocas else opcao)
    return opcoes


def opcoes_do_prometheus(config_local: Path, dados: Path, porta: int) -> list[str]:
    """O `command` do compose, com os caminhos do contêiner trocados pelos daqui e o endereço de escuta."""
    trocas = {"--config.file": str(config_local), "--storage.tsdb.path": str(dados)}
    return [*opcoes_do_compose("prometheus", trocas), f"--web.listen-address=127.0.0.1:{porta}"]


def opcoes_dos_paineis(dados: Path, porta: int) -> list[str]:
    """O `command` do compose (retenção, memória, a pasta dos JSON), com as pastas daqui e o endereço de escuta."""
    trocas = {"-storageDataPath": str(dados), "-vmui.customDashboardsPath": str(PAINEIS)}
    return [*opcoes_do_compose("paineis", trocas), f"-httpListenAddr=127.0.0.1:{porta}"]


def opcoes_do_victorialogs(dados: Path, porta: int) -> list[str]:
    """O `command` do compose (retenção, memória), com a pasta dos dados daqui e o endereço de escuta."""
    return [*opcoes_do_compose("victorialogs", {"-storageDataPath": str(dados)}), f"-httpListenAddr=127.0.0.1:{porta}"]


def opcoes_do_visualizador(porta: int, otlp_grpc: int, otlp_http: int) -> list[str]:
    """O otel-desktop-viewer só em 127.0.0.1 (a interface e os dois receptores OTLP), sem abrir navegador, em
    memória e com teto: passado dele, os traces mais velhos saem (uma aula inteira cabe com folga)."""
    return ["--host", "127.0.0.1", "--browser-port", str(porta), "--grpc", str(otlp_grpc), "--http", str(otlp_http),
            "--open-browser=false", f"--db-max-size={TETO_DO_VISUALIZADOR}"]


def responde(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


# A config que o Collector aceitou por último e quando (o exercício 13 a lê): o Collector não mostra a
# config em vigor, e o arquivo no disco pode estar salvo pela metade, ou ter sido recusado.
CONFIG_ACEITA = "collector-aceito.json"


class PilhaReal:
    """`with PilhaReal(pasta) as pilha:` Collector, Jaeger e Prometheus prontos; `pilha.ambiente(protocolo)`
    aponta os serviços para o Collector (como o do receptor local)."""

    def __init__(self, pasta: Path, saida=None):
        self.pasta = Path(pasta)
        self.saida = saida
        self.publicas = portas_publicas()
        self.internas = {nome: porta_livre() for nome in PORTAS_INTERNAS}
        self.enderecos = enderecos(self.publicas, self.internas)
        self.processos: dict[str, Vigiado] = {}
        self._parando = threading.Event()
        self._observador = threading.Thread(target=self._observar_config, name="config-do-collector", daemon=True)
        self.limites: VigiaDosLimites | None = None  # as linhas de quem passa de um teto (limites.py)

    def avisar(self, linha: str) -> None:
        print(linha, file=self.saida or sys.stdout, flush=True)

    def ambiente_de(self, binario: str, servico_no_compose: str | None) -> dict:
        do_compose_ = {k: str(v) for k, v in do_compose(servico_no_compose).get("environment", {}).items()} \
            if servico_no_compose else {}
        return {**os.environ, **do_compose_, **self.enderecos.get(binario, {})}

    def _montar(self) -> None:
        self.pasta.mkdir(parents=True, exist_ok=True)
        local = "http://127.0.0.1"
        config_prometheus = self.pasta / "prometheus.yml"
        config_prometheus.write_text(prometheus_yml_local(
            {"otel-collector": self.enderecos["otelcol"]["COLLECTOR_PROMETHEUS_ENDPOINT"],
             "collector": f"127.0.0.1:{self.internas['collector-telemetria']}"},
            remote_write=f"{local}:{self.publicas['paineis']}/api/v1/write"), encoding="utf-8")
        # Quem recebe sobe junto com quem manda: os exportadores do Collector e do Jaeger tentam de novo
        # enquanto o vizinho não escuta.
        self.processos = {nome: self._vigiado(nome, *partes) for nome, *partes in [
            ("VictoriaLogs", [BIN / "victoria-logs", *opcoes_do_victorialogs(
                self.pasta / "victorialogs-dados", self.publicas["victorialogs"])],
             None, "victorialogs.log", f"{local}:{self.publicas['victorialogs']}/health"),
            ("Painéis", [BIN / "victoria-metrics", *opcoes_dos_paineis(
                self.pasta / "paineis-dados", self.publicas["paineis"])],
             None, "paineis.log", f"{local}:{self.publicas['paineis']}/health"),
            ("Visualizador", [BIN / "otel-desktop-viewer", *opcoes_do_visualizador(
                self.publicas["visualizador"], self.internas["visualizador-otlp-grpc"],
                self.internas["visualizador-otlp-http"])],
             None, "visualizador.log", f"{local}:{self.publicas['visualizador']}/"),
            ("Prometheus", [BIN / "prometheus", *opcoes_do_prometheus(
                config_prometheus, self.pasta / "prometheus-dados", self.publicas["prometheus"])],
             None, "prometheus.log", f"{local}:{self.publicas['prometheus']}/-/ready",
             INTERFACE_DO_PROMETHEUS if interface_do_prometheus() else RAIZ),
            ("Jaeger", [BIN / "jaeger", f"--config={CONFIG_JAEGER}", f"--config={CONFIG_JAEGER_VISUALIZADOR}"],
             "jaeger", "jaeger.log", f"{local}:{self.internas['jaeger-saude']}/status"),
            ("Collector", [BIN / "otelcol", f"--config={CONFIG_COLLECTOR}"],
             "otel-collector", "otelcol.log", f"{local}:{self.publicas['collector-saude']}/"),
        ]}

    def _vigiado(self, nome: str, comando: list, servico_no_compose: str | None, log: str, pronto_url: str,
                 pasta: Path = RAIZ) -> Vigiado:
        """Um processo da pilha, que volta sozinho se cair; `pasta` é o diretório de trabalho dele. O SIGTERM
        e o prazo curto: o que ele guardava em memória se perde, como num `docker compose down`."""
        ambiente = self.ambiente_de(Path(comando[0]).name, servico_no_compose)
        return Vigiado(nome, lambda: Filho(comando, cwd=pasta, env=ambiente, log=self.pasta / log,
                                           prazo_para_parar=PRAZO_PARA_PARAR_SEGUNDOS),
                       self.avisar, lambda: responde(pronto_url), onde_olhar=f" (log: {self.pasta / log})",
                       limite_para_ficar_pronto=30)

    def iniciar(self) -> "PilhaReal":
        self._montar()
        try:
            for processo in self.processos.values():  # os três sobem juntos; cada um tenta de novo o vizinho
                processo.lancar()
            for processo in self.processos.values():
                processo.esperar_pronto()
        except BaseException:
            self.parar()
            raise
        for processo in self.processos.values():
            processo.vigiar()
        self._registrar_config_aceita(CONFIG_COLLECTOR.read_text(encoding="utf-8"), time.time())
        self._observador.start()
        self.limites = VigiaDosLimites(f"http://127.0.0.1:{self.publicas['prometheus']}", self.avisar).iniciar()
        return self

    @property
    def collector(self) -> Vigiado:
        return self.processos["Collector"]

    def ambiente(self, protocolo: str = "http/protobuf") -> dict:
        porta = self.publicas["otlp-grpc"] if protocolo == "grpc" else self.publicas["otlp-http"]
        return {"OTEL_EXPORTER_OTLP_PROTOCOL": protocolo, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{porta}"}

    def resumo(self) -> str:
        """O que a pilha diz ao subir: de onde vem, onde estão os logs dela, o Collector."""
        p, pasta, local = self.publicas, self._relativa(self.pasta), "http://127.0.0.1"
        return "\n".join([
            "Pilha real (os binários de .ferramentas/bin/ com as configs do compose; logs em " f"{pasta}/):",
            f"  Collector     OTLP 127.0.0.1:{p['otlp-http']} (HTTP) e :{p['otlp-grpc']} (gRPC); "
            f"saúde {local}:{p['collector-saude']}/",
            f"Salvar {self._relativa(CONFIG_COLLECTOR)} reinicia o Collector com ela (exercícios 13 e 14).",
        ])

    def no_navegador(self) -> str:
        """As páginas que o aluno abre, para o "Laboratório pronto" (depois dos logs de início do gunicorn,
        onde ele as vê)."""
        p, local = self.publicas, "http://127.0.0.1"
        prometheus = ("a interface do Prometheus: consultas, /alerts, /targets" if interface_do_prometheus()
                      else f"só a API /api/v1: {SEM_A_INTERFACE_DO_PROMETHEUS}")
        return "\n".join([
            "No navegador:",
            f"  Prometheus    {local}:{p['prometheus']}/query  ({prometheus})",
            f"  Traces        {local}:{p['visualizador']}/traces  (abre no trace mais novo; um trace: /traces/<trace_id>)",
            f"  Logs          {local}:{p['victorialogs']}/select/vmui/  (busque trace_id:<id>)",
            f"  Painéis       {local}:{p['paineis']}/vmui/#/dashboards  (RED por serviço, o funil da compra, "
            "as filas e a pilha)",
            f"  Jaeger (API)  {local}:{p['jaeger']}/api/v3/services  (a interface do Jaeger só existe no Docker; "
            "aqui, make traces e o visualizador)",
        ])

    @staticmethod
    def _relativa(caminho: Path) -> str:
        try:
            return str(Path(caminho).resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(caminho)

    def _observar_config(self) -> None:
        """A cada segundo: o otel-collector/config.yaml mudou? Valida e, se vale, reinicia o Collector."""
        visto = CONFIG_COLLECTOR.stat().st_mtime_ns
        while not self._parando.wait(1.0):
            try:
                agora = CONFIG_COLLECTOR.stat().st_mtime_ns
            except OSError:
                continue  # um editor que apaga e regrava: o arquivo volta no próximo segundo
            if agora == visto:
                continue
            visto = agora
            nome = self._relativa(CONFIG_COLLECTOR)
            teste = subprocess.run([str(BIN / "otelcol"), "validate", f"--config={CONFIG_COLLECTOR}"],
                                   env=self.ambiente_de("otelcol", "otel-collector"), capture_output=True, text=True, timeout=60)
            if teste.returncode != 0:
                erro = "\n    ".join((teste.stderr or teste.stdout).strip().splitlines()[-5:])
                self.avisar(f"✘ {nome} mudou, mas o Collector a recusa; ele segue com a anterior:\n    {erro}")
                continue
            aceita = CONFIG_COLLECTOR.read_text(encoding="utf-8")  # a que o validate aceitou
            # O momento da troca: logo antes do aviso e do sinal ao Collector antigo, cujos receptores fecham
            # ali; o que um serviço exportar daí em diante espera o novo (o SDK tenta de novo) e passa pela
            # config nova — inclusive a compra que o aluno faz ao ler o ✔.
            antigo, trocou_em = self.collector.pid, time.time()
            self.avisar(f"✔ {nome} mudou e vale: reiniciando o Collector com ela")
            self.collector.reiniciar()
            self._esperar_o_collector_novo(antigo)
            self._registrar_config_aceita(aceita, trocou_em)

    def _esperar_o_collector_novo(self, antigo: int, limite_segundos: float = 30) -> None:
        """Até o Collector com a config nova atender: só então o registro a dá como a em vigor."""
        fim = time.monotonic() + limite_segundos
        while time.monotonic() < fim and not self._parando.is_set():
            try:
                if self.collector.pid != antigo and self.collector.pronto():
                    return
            except AttributeError:  # entre um filho e outro
                pass
            time.sleep(0.1)

    def _registrar_config_aceita(self, texto: str, aceita_em: float) -> None:
        """{aceita_em: epoch da troca, config: o texto}, trocado de uma vez (rename)."""
        provisorio = self.pasta / (CONFIG_ACEITA + ".novo")
        provisorio.write_text(json.dumps({"aceita_em": aceita_em, "config": texto}), encoding="utf-8")
        provisorio.replace(self.pasta / CONFIG_ACEITA)

    def parar(self) -> None:
        """Os três juntos: SIGTERM e, passado o prazo, SIGKILL (o que guardavam em memória se perde, como
        num `docker compose down`)."""
        self._parando.set()
        if self.limites:
            self.limites.parar()
        parar_juntos(self.processos.values(), PRAZO_PARA_PARAR_SEGUNDOS)
        # Sem a pilha no ar, o registro não diz mais nada (um `docker compose up` depois leria um Collector
        # que não existe).
        (self.pasta / CONFIG_ACEITA).unlink(missing_ok=True)
        if self._observador.is_alive():
            self._observador.join(timeout=2)

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        self.parar()


def subir(pilha, pasta_da_telemetria: Path, manter: bool) -> tuple[dict, PilhaReal]:
    """Para o `make local`: a pilha real dentro do ExitStack do lançador. Devolve o ambiente OTEL_* dos
    serviços e a pilha (o resumo() e o no_navegador() dela vão para o terminal). Sem MANTER_DADOS, começa vazia (os dados do Prometheus e os logs)."""
    pasta = Path(pasta_da_telemetria) / "pilha"
    if not manter:
        shutil.rmtree(pasta, ignore_errors=True)
        # Traces de um receptor local de antes não se passam pelos desta pilha (o make traces lê o Jaeger).
        Armazem(Path(pasta_da_telemetria)).limpar()
    real = pilha.enter_context(PilhaReal(pasta))
    protocolo = (config.ler("OTEL_EXPORTER_OTLP_PROTOCOL") if config.definida("OTEL_EXPORTER_OTLP_PROTOCOL")
                 else "http/protobuf")
    return real.ambiente(protocolo), real
