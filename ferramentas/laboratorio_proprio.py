"""Um `make local` só da ferramenta: a pilha real em portas livres, numa pasta de telemetria própria.

Para as ferramentas que medem ou fotografam o laboratório (`make medir-pilha`, `make capturas`) sem mexer
no `make local` que o aluno tem no ar: cada processo da topologia ganha uma porta livre (as variáveis
PORTA_*), e a saída do lançador (e dos gunicorns, que a herdam) vai para um arquivo — um pipe que ninguém
lê enche e trava os serviços no meio da carga.
"""
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

from bookstore import topologia
from bookstore.config import RAIZ
from supervisao.filho import Filho
from supervisao.portas import porta_livre

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
        # O Ctrl-C que o aluno daria (o lançador para tudo na ordem certa); se a ferramenta morrer, ele vai junto.
        self.lancador = Filho([sys.executable, "-m", "modo_local"], cwd=RAIZ, env=self.ambiente, log=self.log,
                              parar_com=signal.SIGINT, prazo_para_parar=30, grupo_proprio=False)

    def url(self, nome: str) -> str:
        return f"http://127.0.0.1:{self.portas[topologia.PROCESSOS[nome].variavel]}"

    def __enter__(self) -> "LaboratorioProprio":
        self.lancador.iniciar()
        fim = time.monotonic() + PRAZO_PARA_SUBIR_SEGUNDOS
        while "Ctrl-C para parar" not in self.log.read_text(errors="replace"):
            if not self.lancador.vivo() or time.monotonic() > fim:
                self.__exit__()
                raise NaoSubiu(f"o make local não subiu:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        return self

    def __exit__(self, *exc) -> None:
        self.lancador.parar()
