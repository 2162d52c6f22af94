"""Sobe os três serviços como processos gunicorn reais e os derruba sem deixar órfãos.

O comando é o mesmo do Dockerfile: `gunicorn --config <servico>/gunicorn.conf.py`,
na raiz do projeto. Só o ambiente muda (porta, URL do banco, URLs dos vizinhos).
"""
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import requests

from bookstore import cartao, config, topologia
from bookstore.config import RAIZ
from supervisao.filho import Filho, motivo, parar_juntos


def comando_gunicorn(nome: str, zero_code: bool = False) -> list[str]:
    """Com `zero_code`, o mesmo gunicorn sob o `opentelemetry-instrument` (exercício 03): o
    OpenTelemetry configurado pelas variáveis OTEL_*, sem o código de bookstore/telemetria.py."""
    binarios = Path(sys.executable).parent
    if zero_code:
        # `-c`, não `--config`: o argparse do opentelemetry-instrument lê `--config` como abreviação
        # ambígua das opções dele (--config_file, --configurator) e para com "ambiguous option".
        return [str(binarios / "opentelemetry-instrument"), str(binarios / "gunicorn"), "-c", f"{nome}/gunicorn.conf.py"]
    return [str(binarios / "gunicorn"), "--config", f"{nome}/gunicorn.conf.py"]


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
        self.processos: dict[str, Filho] = {}
        self.bancos: dict[str, str] = {}
        # O par de chaves do cartão selado (bookstore/cartao.py) mora com os bancos: com MANTER_DADOS, um
        # cartão selado que ficou em ordens ainda abre na próxima subida. Um PostgreSQL de fora
        # (POSTGRES_URL) não tem pasta nossa: uma temporária.
        pasta = getattr(postgres, "raiz", None) or Path(tempfile.mkdtemp(prefix="bookstore-chaves-"))
        self.chave_privada = pasta / "cartao" / "chave-privada.pem"
        self.chave_publica = pasta / "cartao" / "chave-publica.pem"

    def url(self, nome: str) -> str:
        return f"http://127.0.0.1:{self.portas[nome]}"

    def log(self, nome: str) -> str:
        return (self.pasta_logs / f"{nome}.log").read_text(errors="replace") if self.pasta_logs else ""

    def ambiente_do_servico(self, nome: str) -> dict:
        cartao.gerar_chaves(self.chave_privada, self.chave_publica)  # só na primeira vez
        chaves = {"ordens": {"CARTAO_CHAVE_PUBLICA": str(self.chave_publica)},
                  "pagamentos": {"CARTAO_CHAVE_PRIVADA": str(self.chave_privada)}}
        return {
            **config.variaveis_do_otel_env(),
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.portas[nome]),
            "DATABASE_URL": self.bancos[nome],
            "LIVROS_URL": self.url("livros"),
            "PAGAMENTOS_URL": self.url("pagamentos"),
            "PYTHONUNBUFFERED": "1",
            **chaves.get(nome, {}),
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
        if self.pasta_logs:
            self.pasta_logs.mkdir(parents=True, exist_ok=True)
        # SIGTERM ao master: o gunicorn para os workers e cada um esvazia a telemetria; passado o prazo,
        # o grupo inteiro (o master e os workers) leva SIGKILL.
        self.processos[nome] = Filho(comando_gunicorn(nome, nome in self.zero_code), cwd=RAIZ,
                                     env={**self.ambiente_do_servico(nome), **ambiente_extra},
                                     log=self.pasta_logs / f"{nome}.log" if self.pasta_logs else None).iniciar()

    def esperar_prontos(self) -> None:
        for nome in self.processos:
            self.esperar_pronto(nome)

    def esperar_pronto(self, nome: str, limite_segundos: float = 30) -> None:
        fim = time.monotonic() + limite_segundos
        while time.monotonic() < fim:
            if not self.processos[nome].vivo():
                raise RuntimeError(f"{nome} terminou ao subir ({motivo(self.processos[nome].codigo)}).\n"
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
        """Os três em paralelo (`sinal`: outro que o SIGTERM, para os testes que param de outro jeito)."""
        filhos = [filho for filho in (self.processos.pop(nome, None) for nome in nomes) if filho]
        for filho in filhos:
            filho.parar_com = sinal
        parar_juntos(filhos)

    def parar(self) -> None:
        self.parar_servicos(list(self.processos))

    def __enter__(self):
        # `with Laboratorio(...)` sobe tudo; `with lab.iniciar(servicos=...)` já subiu.
        return self if self.processos else self.iniciar()

    def __exit__(self, *exc):
        self.parar()
