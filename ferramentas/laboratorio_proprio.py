"""Um `make local` só da ferramenta: a pilha real em portas livres, numa pasta de telemetria própria.

Para as ferramentas que medem ou fotografam o laboratório (`make medir-pilha`, `make capturas`) sem mexer
no `make local` que o aluno tem no ar: cada processo da topologia ganha uma porta livre (as variáveis
PORTA_*), e a saída do lançador (e dos gunicorns, que a herdam) vai para um arquivo — um pipe que ninguém
lê enche e trava os serviços no meio da carga.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bookstore import topologia
from bookstore.config import RAIZ
from modo_local.processos import porta_livre

PRAZO_PARA_SUBIR_SEGUNDOS = 90


class NaoSubiu(RuntimeError):
    pass


class LaboratorioProprio:
    """`with LaboratorioProprio(prefixo) as lab:` o make local pronto; `lab.url("ordens")`, `lab.ambiente`."""

    def __init__(self, prefixo: str, **ambiente):
        self.pasta = Path(tempfile.mkdtemp(prefix=prefixo))
        self.portas = {p.variavel: str(porta_livre()) for p in topologia.PROCESSOS.values()}
        self.ambiente = {**os.environ, **self.portas, "PILHA": "real", "TELEMETRIA_LOCAL_PASTA": str(self.pasta),
                         "PYTHONUNBUFFERED": "1", **ambiente}
        self.log = self.pasta / "make-local.log"
        self.lancador: subprocess.Popen | None = None

    def url(self, nome: str) -> str:
        return f"http://127.0.0.1:{self.portas[topologia.PROCESSOS[nome].variavel]}"

    def __enter__(self) -> "LaboratorioProprio":
        with open(self.log, "w") as saida:
            self.lancador = subprocess.Popen([sys.executable, "-m", "modo_local"], cwd=RAIZ, env=self.ambiente,
                                             stdout=saida, stderr=subprocess.STDOUT)
        fim = time.monotonic() + PRAZO_PARA_SUBIR_SEGUNDOS
        while "Ctrl-C para parar" not in self.log.read_text(errors="replace"):
            if self.lancador.poll() is not None or time.monotonic() > fim:
                self.__exit__()
                raise NaoSubiu(f"o make local não subiu:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc) -> None:
        if self.lancador and self.lancador.poll() is None:
            self.lancador.send_signal(signal.SIGINT)
            try:
                self.lancador.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.lancador.kill()
                self.lancador.wait()
