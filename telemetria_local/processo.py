"""O receptor OTLP do `make local` num processo filho, vigiado: a falha dele não é a do laboratório.

Antes, o receptor rodava dentro do lançador, que também segura os gunicorns e o
PostgreSQL: uma bomba de gzip levou o lançador a 2 GB e, com memória limitada, o
kernel o matou — e com ele o laboratório inteiro. Agora o receptor (com o armazém e
o resumo ao vivo) é `python -m telemetria_local.servidor`; se ele morrer, o lançador
diz no terminal o que houve e sobe outro nas mesmas portas. Os exportadores dos
serviços tentam de novo sozinhos, então só se perde o que chegou no intervalo.

O filho morre com o pai (PR_SET_PDEATHSIG, como os serviços) e fica num grupo de
processos próprio: o Ctrl-C do terminal chega só ao lançador, que para os serviços
primeiro (eles esvaziam a telemetria no receptor) e o receptor depois.
"""
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from modo_local.processos import porta_ocupada, prefixo_morre_com_o_pai

RAIZ = Path(__file__).resolve().parent.parent
ESPERA_MINIMA, ESPERA_MAXIMA = 0.5, 10.0  # entre uma queda e a volta; dobra se ele cai logo de novo
VIDA_ESTAVEL = 5.0


def motivo(codigo: int) -> str:
    if codigo < 0:
        nome = signal.Signals(-codigo).name
        dica = " — falta de memória? o kernel mata assim" if codigo == -signal.SIGKILL else ""
        return f"morto pelo sinal {nome}{dica}"
    return f"saiu com o código {codigo}"


class ReceptorEmProcesso:
    """`with ReceptorEmProcesso(4318, 4317, pasta) as r:` o receptor no processo dele, de pé até o
    `with` acabar. `r.ambiente(protocolo)` aponta os serviços para ele (como no ReceptorOTLP)."""

    def __init__(self, porta_http: int, porta_grpc: int, pasta: Path | None = None, saida=None,
                 limite_segundos: float = 30):
        self.porta_http, self.porta_grpc = porta_http, porta_grpc
        self.pasta = pasta
        self.saida = saida  # para onde vão a saída do filho e os avisos (padrão: o terminal)
        self.limite_segundos = limite_segundos
        self._processo: subprocess.Popen | None = None
        self._parando = threading.Event()
        self._trava = threading.Lock()
        self._vigia = threading.Thread(target=self._vigiar, name="vigia-do-receptor", daemon=True)

    @property
    def pid(self) -> int:
        return self._processo.pid

    def pronto(self) -> bool:
        return self._processo.poll() is None and porta_ocupada(self.porta_http) and porta_ocupada(self.porta_grpc)

    def ambiente(self, protocolo: str = "http/protobuf") -> dict:
        porta = self.porta_grpc if protocolo == "grpc" else self.porta_http
        return {"OTEL_EXPORTER_OTLP_PROTOCOL": protocolo,
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{porta}"}

    def iniciar(self) -> "ReceptorEmProcesso":
        self._subir()
        self._vigia.start()
        return self

    def _subir(self) -> None:
        comando = [*prefixo_morre_com_o_pai("KILL"), sys.executable, "-m", "telemetria_local.servidor",
                   "--porta-http", str(self.porta_http), "--porta-grpc", str(self.porta_grpc),
                   *(["--pasta", str(self.pasta)] if self.pasta else [])]
        with self._trava:
            if self._parando.is_set():
                return
            self._processo = subprocess.Popen(comando, cwd=RAIZ, stdin=subprocess.DEVNULL, stdout=self.saida,
                                              stderr=self.saida, start_new_session=True)
        fim = time.monotonic() + self.limite_segundos
        while not self.pronto():
            if self._processo.poll() is not None or time.monotonic() > fim:
                raise RuntimeError(f"o receptor OTLP não subiu ({motivo(self._processo.poll())})"
                                   if self._processo.poll() is not None else
                                   f"o receptor OTLP não abriu as portas em {self.limite_segundos:.0f} s")
            time.sleep(0.05)

    def _avisar(self, linha: str) -> None:
        print(linha, file=self.saida or sys.stdout, flush=True)

    def _vigiar(self) -> None:
        espera = ESPERA_MINIMA
        while True:
            inicio = time.monotonic()
            codigo = self._processo.wait()
            if self._parando.is_set():
                return
            espera = ESPERA_MINIMA if time.monotonic() - inicio > VIDA_ESTAVEL else min(espera * 2, ESPERA_MAXIMA)
            self._avisar(f"✘ receptor OTLP caiu ({motivo(codigo)}); os serviços e o PostgreSQL seguem. "
                         f"Subindo outro em {espera:.1f} s…")
            if self._parando.wait(espera):
                return
            try:
                self._subir()
            except RuntimeError as erro:
                self._avisar(f"✘ {erro}")
                continue
            if not self._parando.is_set():
                self._avisar(f"✔ receptor OTLP de volta em 127.0.0.1:{self.porta_http} (HTTP) e "
                             f":{self.porta_grpc} (gRPC)")

    def parar(self) -> None:
        """SIGTERM: o receptor imprime os traces que esperavam e sai; se demorar, SIGKILL."""
        with self._trava:
            self._parando.set()
        if self._processo and self._processo.poll() is None:
            self._processo.terminate()
            try:
                self._processo.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._processo.kill()
                self._processo.wait()
        if self._vigia.is_alive():
            self._vigia.join(timeout=5)

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        self.parar()
