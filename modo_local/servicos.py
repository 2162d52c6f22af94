"""Sobe os três serviços como processos gunicorn reais e os derruba sem deixar órfãos.

O comando é o mesmo do Dockerfile: `gunicorn --config <servico>/gunicorn.conf.py`,
na raiz do projeto. Só o ambiente muda (porta, URL do banco, URLs dos vizinhos).
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from bookstore import topologia
from bookstore.config import RAIZ

from .processos import prefixo_morre_com_o_pai

ARQUIVO_OTEL = RAIZ / "otel.env"


def ambiente_otel_do_laboratorio() -> dict:
    """As variáveis de otel.env (as mesmas do compose). O ambiente de quem
    chama tem precedência, como no `environment:` do compose."""
    variaveis = {}
    for linha in ARQUIVO_OTEL.read_text(encoding="utf-8").splitlines():
        linha = linha.strip()
        if linha and not linha.startswith("#"):
            nome, _, valor = linha.partition("=")
            variaveis[nome.strip()] = valor.strip()
    return variaveis


def comando_gunicorn(nome: str, zero_code: bool = False) -> list[str]:
    """Com `zero_code`, o mesmo gunicorn sob o `opentelemetry-instrument` (exercício 03): o
    OpenTelemetry configurado pelas variáveis OTEL_*, sem o código de bookstore/telemetria.py."""
    binarios = Path(sys.executable).parent
    if zero_code:
        # `-c`, não `--config`: o argparse do opentelemetry-instrument lê `--config` como abreviação
        # ambígua das opções dele (--config_file, --configurator) e para com "ambiguous option".
        return [str(binarios / "opentelemetry-instrument"), str(binarios / "gunicorn"), "-c", f"{nome}/gunicorn.conf.py"]
    return [str(binarios / "gunicorn"), "--config", f"{nome}/gunicorn.conf.py"]


# SIGTERM ao master: o gunicorn para os workers com graceful_timeout (4 s) e cada
# worker esvazia a telemetria com prazo (bookstore/telemetria.py). Isso mais a
# margem; só depois o grupo inteiro leva SIGKILL.
PRAZO_PARA_PARAR_SEGUNDOS = 8


class Laboratorio:
    def __init__(self, postgres, portas: dict | None = None, ambiente: dict | None = None,
                 pasta_logs: Path | None = None, prefixo_bancos: str = "",
                 ambiente_por_servico: dict | None = None, zero_code: frozenset = frozenset()):
        self.postgres = postgres
        self.portas = portas or topologia.portas_padrao()
        self.ambiente = ambiente or {}
        self.ambiente_por_servico = ambiente_por_servico or {}
        self.pasta_logs = pasta_logs  # None: a saída vai para o terminal
        self.prefixo_bancos = prefixo_bancos
        self.zero_code = zero_code  # serviços que rodam sob o opentelemetry-instrument
        self.processos: dict[str, subprocess.Popen] = {}
        self.bancos: dict[str, str] = {}

    def url(self, nome: str) -> str:
        return f"http://127.0.0.1:{self.portas[nome]}"

    def log(self, nome: str) -> str:
        return (self.pasta_logs / f"{nome}.log").read_text(errors="replace") if self.pasta_logs else ""

    def ambiente_do_servico(self, nome: str) -> dict:
        return {
            **ambiente_otel_do_laboratorio(),
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.portas[nome]),
            "DATABASE_URL": self.bancos[nome],
            "LIVROS_URL": self.url("livros"),
            "PAGAMENTOS_URL": self.url("pagamentos"),
            "PYTHONUNBUFFERED": "1",
            # Sem o código do laboratório, o nome do serviço só vem daqui (senão: unknown_service).
            **({"OTEL_SERVICE_NAME": nome} if nome in self.zero_code else {}),
            **self.ambiente,
            **self.ambiente_por_servico.get(nome, {}),
        }

    def iniciar(self, servicos=topologia.ORDEM_DE_SUBIDA, recriar_bancos: bool = False, esperar: bool = True) -> "Laboratorio":
        """Com `esperar=False`, só lança os processos: quem sobe vários laboratórios (o bench)
        lança todos e depois chama `esperar_prontos()`, em vez de esperar um por um."""
        for nome in topologia.SERVICOS:
            self.bancos[nome] = self.postgres.criar_banco(self.prefixo_bancos + nome, recriar=recriar_bancos)
        try:
            for nome in servicos:
                self.iniciar_servico(nome)
            if esperar:
                self.esperar_prontos()
        except BaseException:
            self.parar()
            raise
        return self

    def iniciar_servico(self, nome: str, **ambiente_extra) -> None:
        saida = None
        if self.pasta_logs:
            self.pasta_logs.mkdir(parents=True, exist_ok=True)
            saida = open(self.pasta_logs / f"{nome}.log", "ab")
        self.processos[nome] = subprocess.Popen(
            # Se este processo morrer sem limpar (SIGKILL), o master morre junto.
            [*prefixo_morre_com_o_pai("KILL"), *comando_gunicorn(nome, nome in self.zero_code)], cwd=RAIZ, env={**self.ambiente_do_servico(nome), **ambiente_extra},
            stdout=saida, stderr=subprocess.STDOUT if saida else None,
            # Grupo de processos próprio: Ctrl-C no terminal não chega direto aos
            # workers, e no fim dá para matar o grupo inteiro se algo travar.
            start_new_session=True,
        )
        if saida:
            saida.close()

    def esperar_prontos(self) -> None:
        for nome in self.processos:
            self.esperar_pronto(nome)

    def esperar_pronto(self, nome: str, limite_segundos: float = 30) -> None:
        fim = time.monotonic() + limite_segundos
        while time.monotonic() < fim:
            if self.processos[nome].poll() is not None:
                raise RuntimeError(f"{nome} terminou ao subir (código {self.processos[nome].returncode}).\n"
                                   f"{self.log(nome)[-3000:]}")
            try:
                if requests.get(self.url(nome) + topologia.PROCESSOS[nome].pronto, timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{nome} não ficou pronto em {limite_segundos}s.\n{self.log(nome)[-3000:]}")

    def parar_servico(self, nome: str, sinal: int = signal.SIGTERM) -> None:
        self.parar_servicos([nome], sinal)

    def parar_servicos(self, nomes, sinal: int = signal.SIGTERM) -> None:
        """Sinaliza todos primeiro e espera depois: os três param em paralelo."""
        processos = [p for p in (self.processos.pop(nome, None) for nome in nomes) if p and p.poll() is None]
        for processo in processos:
            processo.send_signal(sinal)
        fim = time.monotonic() + PRAZO_PARA_PARAR_SEGUNDOS
        for processo in processos:
            try:
                processo.wait(timeout=max(0.0, fim - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(processo.pid, signal.SIGKILL)  # workers que sobraram, se houver
            except ProcessLookupError:
                pass
            processo.wait()

    def parar(self) -> None:
        self.parar_servicos(list(self.processos))

    def __enter__(self):
        # `with Laboratorio(...)` sobe tudo; `with lab.iniciar(servicos=...)` já subiu.
        return self if self.processos else self.iniciar()

    def __exit__(self, *exc):
        self.parar()
