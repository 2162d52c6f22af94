"""A pilha real no `make local`: o Collector, o Jaeger e o Prometheus do compose, sem Docker.

Os binários vêm de `pilha/construir.sh` (`make ferramentas`), em `.ferramentas/bin/`. Cada um roda
o MESMO arquivo de configuração do compose — `otel-collector/config.yaml`, `jaeger/config.yaml` —
e só os endereços mudam: as configs leem cada endereço de `${env:NOME:-o do compose}`, e aqui
essas variáveis apontam para 127.0.0.1 (as portas públicas são as da topologia; as internas,
que no compose ficam na rede do Docker, são portas livres). O Prometheus não expande variáveis
nos alvos: ele roda uma cópia do `prometheus/prometheus.yml` em que só o alvo muda. O GOMEMLIMIT
do Collector e do Jaeger e as opções de retenção do Prometheus vêm do `docker-compose.yml`.

Como o `restart: unless-stopped` do compose, um processo que cai volta sozinho (com uma linha no
terminal). Salvar `otel-collector/config.yaml` reinicia o Collector com ela, depois de um
`otelcol validate` (o `docker compose restart otel-collector` dos exercícios 13 e 14); se ela não
vale, o Collector segue com a anterior e o erro aparece no terminal.

Os três morrem com o lançador (PR_SET_PDEATHSIG, como os serviços); os logs deles ficam em
`<.telemetria>/pilha/*.log` (a saída do `debug/logs` do Collector encheria o terminal).
"""
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bookstore import config, topologia
from bookstore.config import RAIZ
from telemetria_local.armazem import Armazem

from .processos import porta_livre, prefixo_morre_com_o_pai

BIN = RAIZ / ".ferramentas" / "bin"
BINARIOS = ("otelcol", "jaeger", "prometheus")
CONFIG_COLLECTOR = RAIZ / "otel-collector" / "config.yaml"
CONFIG_JAEGER = RAIZ / "jaeger" / "config.yaml"
CONFIG_UI_DO_JAEGER = RAIZ / "jaeger" / "ui.json"
CONFIG_PROMETHEUS = RAIZ / "prometheus" / "prometheus.yml"
COMPOSE = RAIZ / "docker-compose.yml"
MODOS = ("auto", "real", "receptor")
ESPERA_MINIMA, ESPERA_MAXIMA, VIDA_ESTAVEL = 0.5, 10.0, 5.0  # entre uma queda e a volta (como o receptor)
PRAZO_PARA_PARAR_SEGUNDOS = 1.5  # a pilha para depois dos serviços; o Ctrl-C inteiro cabe em 3 s
COMO_CONSTRUIR = "`make ferramentas` a constrói (precisa do Go; veja o README)"


def faltando() -> list[str]:
    return [nome for nome in BINARIOS if not (BIN / nome).exists()]


def usar_pilha_real(saida=None) -> bool:
    """PILHA=real|receptor|auto. No auto, a pilha real quando os binários estão lá; senão o receptor
    local, com uma linha dizendo como ter a pilha real."""
    pedido = config.ler("PILHA").strip().lower()
    if pedido not in MODOS:
        raise config.ConfiguracaoInvalida(f"PILHA={pedido}: use {', '.join(MODOS)}")
    if pedido == "receptor":
        return False
    if faltam := faltando():
        if pedido == "real":
            raise config.ConfiguracaoInvalida(f"PILHA=real, mas falta {', '.join(faltam)} em {BIN}: {COMO_CONSTRUIR}")
        print(f"Pilha real (Collector, Jaeger, Prometheus) ausente de .ferramentas/bin/: {COMO_CONSTRUIR}. "
              "Seguindo com o receptor OTLP local.", file=saida or sys.stdout)
        return False
    return True


def portas_publicas() -> dict[str, int]:
    """As portas que o aluno usa (as do compose, ou PORTA_*): OTLP, saúde do Collector, Jaeger, Prometheus."""
    return {nome: topologia.porta(nome) for nome in ("otlp-grpc", "otlp-http", "collector-saude", "jaeger",
                                                     "prometheus")}


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
        },
    }


def prometheus_yml_local(alvo: str) -> str:
    """O prometheus/prometheus.yml com um só trecho trocado: o alvo (otel-collector:8889 → 127.0.0.1:…)."""
    import yaml
    texto = CONFIG_PROMETHEUS.read_text(encoding="utf-8")
    (original,) = yaml.safe_load(texto)["scrape_configs"][0]["static_configs"][0]["targets"]
    assert texto.count(f'"{original}"') == 1, f"o alvo {original} aparece mais de uma vez em {CONFIG_PROMETHEUS}"
    return texto.replace(f'"{original}"', f'"{alvo}"')


def opcoes_do_prometheus(config_local: Path, dados: Path, porta: int) -> list[str]:
    """O `command` do compose, com os caminhos do contêiner trocados pelos daqui e o endereço de escuta."""
    trocas = {"--config.file": str(config_local), "--storage.tsdb.path": str(dados)}
    opcoes = []
    for opcao in do_compose("prometheus")["command"]:
        nome = opcao.split("=", 1)[0]
        opcoes.append(f"{nome}={trocas[nome]}" if nome in trocas else opcao)
    return [*opcoes, f"--web.listen-address=127.0.0.1:{porta}"]


def responde(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def motivo(codigo: int) -> str:
    if codigo < 0:
        dica = " — falta de memória? o kernel mata assim" if codigo == -signal.SIGKILL else ""
        return f"morto pelo sinal {signal.Signals(-codigo).name}{dica}"
    return f"saiu com o código {codigo}"


class Vigiado:
    """Um processo da pilha, de pé até `parar()`: se cair, volta sozinho (espera dobrando se cair de novo
    logo); `reiniciar()` o troca por outro (config nova). A saída vai para `log`."""

    def __init__(self, nome: str, comando: list, ambiente: dict, log: Path, pronto_url: str, avisar):
        self.nome, self.comando, self.ambiente, self.log, self.pronto_url = nome, comando, ambiente, log, pronto_url
        self.avisar = avisar
        self.processo: subprocess.Popen | None = None
        self._parando, self._trocando = threading.Event(), threading.Event()
        self._trava = threading.Lock()
        self._vigia = threading.Thread(target=self._vigiar, name=f"vigia-{nome}", daemon=True)

    def lancar(self) -> None:
        with self._trava:
            if self._parando.is_set():
                return
            with open(self.log, "ab") as saida:
                # O lançador morto com SIGKILL leva este junto (o filho herda o PDEATHSIG pelo setpriv).
                self.processo = subprocess.Popen([*prefixo_morre_com_o_pai("KILL"), *map(str, self.comando)],
                                                 cwd=RAIZ, env=self.ambiente, stdin=subprocess.DEVNULL,
                                                 stdout=saida, stderr=subprocess.STDOUT, start_new_session=True)

    def esperar_pronto(self, limite_segundos: float = 30) -> None:
        fim = time.monotonic() + limite_segundos
        while not responde(self.pronto_url):
            if self.processo.poll() is not None or time.monotonic() > fim:
                ultimas = self.log.read_text(errors="replace").strip().splitlines()[-15:]
                situacao = motivo(self.processo.poll()) if self.processo.poll() is not None else \
                    f"não respondeu {self.pronto_url} em {limite_segundos:.0f} s"
                raise RuntimeError(f"{self.nome} não subiu ({situacao}). Fim de {self.log}:\n  " + "\n  ".join(ultimas))
            time.sleep(0.05)

    def vigiar(self) -> None:
        self._vigia.start()

    def _vigiar(self) -> None:
        espera = ESPERA_MINIMA
        while True:
            inicio, processo = time.monotonic(), self.processo
            codigo = processo.wait()
            if self._parando.is_set():
                return
            if self._trocando.is_set():
                self._trocando.clear()
                espera = 0.0
            else:
                espera = ESPERA_MINIMA if time.monotonic() - inicio > VIDA_ESTAVEL else min(espera * 2, ESPERA_MAXIMA)
                self.avisar(f"✘ {self.nome} caiu ({motivo(codigo)}); os serviços seguem. Subindo outro em "
                            f"{espera:.1f} s… (log: {self.log})")
            if self._parando.wait(espera):
                return
            self.lancar()
            try:
                self.esperar_pronto()
            except RuntimeError as erro:
                self.avisar(f"✘ {erro}")
                continue
            if not self._parando.is_set():
                self.avisar(f"✔ {self.nome} de volta")

    def reiniciar(self) -> None:
        """SIGTERM; o vigia sobe outro na hora (sem o aviso de queda)."""
        self._trocando.set()
        self.processo.terminate()

    def sinalizar_parada(self) -> None:
        with self._trava:
            self._parando.set()
        if self.processo and self.processo.poll() is None:
            self.processo.terminate()

    def terminar(self, fim: float) -> None:
        if self.processo:
            try:
                self.processo.wait(timeout=max(0.0, fim - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.processo.kill()
                self.processo.wait()
        if self._vigia.is_alive():
            self._vigia.join(timeout=2)


class PilhaReal:
    """`with PilhaReal(pasta) as pilha:` Collector, Jaeger e Prometheus prontos; `pilha.ambiente(protocolo)`
    aponta os serviços para o Collector (como o do receptor local)."""

    def __init__(self, pasta: Path, saida=None):
        self.pasta = Path(pasta)
        self.saida = saida
        self.publicas = portas_publicas()
        self.internas = {nome: porta_livre() for nome in (
            "jaeger-otlp-grpc", "jaeger-otlp-http", "jaeger-saude", "jaeger-query-grpc", "jaeger-telemetria",
            "collector-prometheus", "collector-telemetria")}
        self.enderecos = enderecos(self.publicas, self.internas)
        self.processos: dict[str, Vigiado] = {}
        self._parando = threading.Event()
        self._observador = threading.Thread(target=self._observar_config, name="config-do-collector", daemon=True)

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
        config_prometheus.write_text(prometheus_yml_local(self.enderecos["otelcol"]["COLLECTOR_PROMETHEUS_ENDPOINT"]),
                                     encoding="utf-8")
        self.processos = {
            "Prometheus": Vigiado("Prometheus", [BIN / "prometheus", *opcoes_do_prometheus(
                config_prometheus, self.pasta / "prometheus-dados", self.publicas["prometheus"])],
                self.ambiente_de("prometheus", None), self.pasta / "prometheus.log",
                f"{local}:{self.publicas['prometheus']}/-/ready", self.avisar),
            "Jaeger": Vigiado("Jaeger", [BIN / "jaeger", f"--config={CONFIG_JAEGER}"],
                              self.ambiente_de("jaeger", "jaeger"), self.pasta / "jaeger.log",
                              f"{local}:{self.internas['jaeger-saude']}/status", self.avisar),
            "Collector": Vigiado("Collector", [BIN / "otelcol", f"--config={CONFIG_COLLECTOR}"],
                                 self.ambiente_de("otelcol", "otel-collector"), self.pasta / "otelcol.log",
                                 f"{local}:{self.publicas['collector-saude']}/", self.avisar),
        }

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
        self._observador.start()
        return self

    @property
    def collector(self) -> Vigiado:
        return self.processos["Collector"]

    def ambiente(self, protocolo: str = "http/protobuf") -> dict:
        porta = self.publicas["otlp-grpc"] if protocolo == "grpc" else self.publicas["otlp-http"]
        return {"OTEL_EXPORTER_OTLP_PROTOCOL": protocolo, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{porta}"}

    def resumo(self) -> str:
        p, pasta = self.publicas, self._relativa(self.pasta)
        return "\n".join([
            "Pilha real (os binários de .ferramentas/bin/ com as configs do compose; logs em " f"{pasta}/):",
            f"  Collector   OTLP 127.0.0.1:{p['otlp-http']} (HTTP) e :{p['otlp-grpc']} (gRPC); "
            f"saúde http://127.0.0.1:{p['collector-saude']}/",
            f"  Jaeger      http://127.0.0.1:{p['jaeger']}  (a API /api/v3 e /api/metrics; o build do "
            "código-fonte não traz a interface web)",
            f"  Prometheus  http://127.0.0.1:{p['prometheus']}  (a API /api/v1; sem a interface web)",
            f"  Salvar {self._relativa(CONFIG_COLLECTOR)} reinicia o Collector com ela (exercícios 13 e 14).",
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
                                   env=self.collector.ambiente, capture_output=True, text=True, timeout=60)
            if teste.returncode != 0:
                erro = "\n    ".join((teste.stderr or teste.stdout).strip().splitlines()[-5:])
                self.avisar(f"✘ {nome} mudou, mas o Collector a recusa; ele segue com a anterior:\n    {erro}")
                continue
            self.avisar(f"✔ {nome} mudou e vale: reiniciando o Collector com ela")
            self.collector.reiniciar()

    def parar(self) -> None:
        """Os três juntos: SIGTERM e, passado o prazo, SIGKILL (o que guardavam em memória se perde, como
        num `docker compose down`)."""
        self._parando.set()
        for processo in self.processos.values():
            processo.sinalizar_parada()
        fim = time.monotonic() + PRAZO_PARA_PARAR_SEGUNDOS
        for processo in self.processos.values():
            processo.terminar(fim)
        if self._observador.is_alive():
            self._observador.join(timeout=2)

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        self.parar()


def subir(pilha, pasta_da_telemetria: Path, manter: bool) -> tuple[dict, str]:
    """Para o `make local`: a pilha real dentro do ExitStack do lançador. Devolve o ambiente OTEL_* dos
    serviços e o resumo para o terminal. Sem MANTER_DADOS, começa vazia (os dados do Prometheus e os logs)."""
    pasta = Path(pasta_da_telemetria) / "pilha"
    if not manter:
        shutil.rmtree(pasta, ignore_errors=True)
        # Traces de um receptor local de antes não se passam pelos desta pilha (o make traces lê o Jaeger).
        Armazem(Path(pasta_da_telemetria)).limpar()
    real = pilha.enter_context(PilhaReal(pasta))
    protocolo = (config.ler("OTEL_EXPORTER_OTLP_PROTOCOL") if config.definida("OTEL_EXPORTER_OTLP_PROTOCOL")
                 else "http/protobuf")
    return real.ambiente(protocolo), real.resumo()
