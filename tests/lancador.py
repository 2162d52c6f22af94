"""`python -m modo_local` como o aluno o roda, em portas livres, para os testes."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from opentelemetry.instrumentation.utils import suppress_instrumentation

from bookstore import topologia
from bookstore.config import RAIZ
from supervisao.portas import porta_livre
from tests.apoio import esperar, rodar


def porta_livre_com_replicas(replicas: int = 3) -> int:
    """Uma porta livre cujas vizinhas das réplicas (+100, +200) também estão livres agora."""
    while True:
        porta = porta_livre()
        vizinhas = [porta + topologia.DESLOCAMENTO_DAS_REPLICAS * k for k in range(1, replicas)]
        if all(v < 65536 and _livre(v) for v in vizinhas):
            return porta


def _livre(porta: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", porta))
            return True
        except OSError:
            return False


class ModoLocal:
    def __init__(self, pasta_telemetria: Path, raiz: Path = RAIZ, **ambiente):
        self.raiz = Path(raiz)  # outra cópia do projeto (ex.: com a solução de um exercício aplicada)
        # Com GATEWAY=true, cada serviço tem réplicas em porta + 100 × k: as portas escolhidas deixam
        # livres também essas. E o gateway numa porta livre (PORTA_GATEWAY), usado ou não.
        self.portas = {**{nome: porta_livre_com_replicas() for nome in topologia.SERVICOS}, "gateway": porta_livre(),
                       "rabbitmq": porta_livre()}  # o broker de ORDENS_SAGA=mensagens (usado ou não)
        self.portas_otlp = {"http": porta_livre(), "grpc": porta_livre()}
        # Os da pilha real (PILHA=real): saúde do Collector, Jaeger, Prometheus e as páginas do navegador (painéis incluídos), também
        # em portas livres —
        # e, com o receptor local, a saúde numa porta em que nada escuta: o autoteste lê o armazém.
        self.portas_da_pilha = {nome: porta_livre() for nome in ("collector-saude", "jaeger", "prometheus", "visualizador",
                                                                 "victorialogs", "paineis")}
        self.pasta_telemetria = Path(pasta_telemetria)
        self.ambiente = {
            **os.environ, "PYTHONUNBUFFERED": "1", "TELEMETRIA_LOCAL_PASTA": str(self.pasta_telemetria),
            # O receptor local, como antes da pilha real; os testes dela pedem PILHA=real.
            "PILHA": "receptor",
            **{f"PORTA_{nome.upper()}": str(porta) for nome, porta in self.portas.items()},
            **{f"PORTA_OTLP_{nome.upper()}": str(porta) for nome, porta in self.portas_otlp.items()},
            **{topologia.PROCESSOS[nome].variavel: str(porta) for nome, porta in self.portas_da_pilha.items()},
            **ambiente,
        }
        self.linhas: list[str] = []
        self.processo: subprocess.Popen | None = None

    def url(self, nome: str) -> str:
        porta = self.portas[nome] if nome in self.portas else self.portas_da_pilha[nome]
        return f"http://127.0.0.1:{porta}"

    def iniciar(self, limite_segundos: float = 60) -> "ModoLocal":
        self.processo = subprocess.Popen([sys.executable, "-m", "modo_local"], cwd=self.raiz, env=self.ambiente,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._ler, daemon=True).start()
        if not self.esperar_linha("Ctrl-C para parar", limite_segundos):
            self.parar(signal.SIGKILL)
            raise RuntimeError("make local não ficou pronto:\n" + self.saida()[-4000:])
        return self

    def _ler(self) -> None:
        for linha in self.processo.stdout:
            self.linhas.append(linha.rstrip("\n"))

    def saida(self) -> str:
        return "\n".join(self.linhas)

    def esperar_linha(self, trecho: str, limite_segundos: float = 15) -> str | None:
        """A primeira linha da saída com `trecho`; None se o processo terminou ou o prazo acabou sem ela."""
        def achada_ou_fim():
            achada = next((linha for linha in list(self.linhas) if trecho in linha), None)
            return (achada,) if achada or self.processo.poll() is not None else None
        try:
            return esperar(achada_ou_fim, limite_segundos, intervalo=0.05)[0]
        except AssertionError:
            return None

    def parar(self, sinal=signal.SIGINT) -> float:
        """Manda o sinal e devolve quantos segundos o make local levou para terminar."""
        inicio = time.monotonic()
        self.processo.send_signal(sinal)
        self.processo.wait(timeout=60)
        return time.monotonic() - inicio

    def comprar(self, livro_id: int = 1, cartao: str = "4111111111111111", cabecalhos: dict | None = None,
                **extras) -> requests.Response:
        # Como um curl: sem traceparent (se os testes em memória instrumentaram o
        # requests deste processo, ele viraria o pai do trace da compra).
        with suppress_instrumentation():
            return requests.post(self.url("ordens") + "/ordens", timeout=10, headers=cabecalhos,
                                 json={"itens": [{"livro_id": livro_id, "quantidade": 1}], "cartao": cartao, **extras})

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        if self.processo.poll() is None:
            self.parar(signal.SIGKILL)


def rodar_diagnostico(lab: ModoLocal, **extras) -> subprocess.CompletedProcess:
    """`make diagnostico` contra este laboratório (sem o Collector: a porta da saúde dele fica livre)."""
    ambiente = {**lab.ambiente, "COLLECTOR_SAUDE_URL": f"http://127.0.0.1:{porta_livre()}/", **extras}
    return rodar([sys.executable, "-m", "ferramentas.diagnostico"], cwd=RAIZ, env=ambiente, timeout=60)
