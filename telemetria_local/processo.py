"""O receptor OTLP do `make local` num processo filho, vigiado: a falha dele não é a do laboratório.

O lançador segura os gunicorns e o PostgreSQL; se o receptor rodasse dentro dele, uma bomba
de gzip que o levasse a 2 GB faria o kernel matar o lançador — e com ele o laboratório
inteiro. Por isso o receptor (com o armazém e o resumo ao vivo) é `python -m
telemetria_local.servidor`, um `Vigiado`: se ele morrer, o terminal diz o que houve e outro
sobe nas mesmas portas. Os exportadores dos serviços tentam de novo sozinhos, então só se
perde o que chegou no intervalo.

Como todo filho do laboratório (supervisao/filho.py), morre com o pai e fica num grupo de
processos próprio: o Ctrl-C do terminal chega só ao lançador, que para os serviços primeiro
(eles esvaziam a telemetria no receptor) e o receptor depois.
"""
import sys
from pathlib import Path

from supervisao.filho import Filho
from supervisao.portas import porta_ocupada
from supervisao.vigiado import Vigiado

RAIZ = Path(__file__).resolve().parent.parent
# SIGTERM: o receptor imprime os traces que esperavam e sai; se demorar, SIGKILL.
PRAZO_PARA_PARAR_SEGUNDOS = 2


class ReceptorEmProcesso:
    """`with ReceptorEmProcesso(4318, 4317, pasta) as r:` o receptor no processo dele, de pé até o
    `with` acabar. `r.ambiente(protocolo)` aponta os serviços para ele (como no ReceptorOTLP)."""

    def __init__(self, porta_http: int, porta_grpc: int, pasta: Path | None = None, saida=None,
                 limite_segundos: float = 30):
        self.porta_http, self.porta_grpc = porta_http, porta_grpc
        self.pasta = pasta
        self.saida = saida  # para onde vão a saída do filho e os avisos (padrão: o terminal)
        comando = [sys.executable, "-m", "telemetria_local.servidor", "--porta-http", porta_http,
                   "--porta-grpc", porta_grpc, *(["--pasta", pasta] if pasta else [])]
        self.vigiado = Vigiado(
            "receptor OTLP", lambda: Filho(comando, cwd=RAIZ, stdout=saida, stderr=saida,
                                           prazo_para_parar=PRAZO_PARA_PARAR_SEGUNDOS),
            self._avisar, self.pronto, o_que_segue="os serviços e o PostgreSQL seguem",
            de_volta=f" em 127.0.0.1:{porta_http} (HTTP) e :{porta_grpc} (gRPC)",
            limite_para_ficar_pronto=limite_segundos)

    @property
    def pid(self) -> int:
        return self.vigiado.pid

    def pronto(self) -> bool:
        filho = self.vigiado.filho
        return bool(filho and filho.vivo()) and porta_ocupada(self.porta_http) and porta_ocupada(self.porta_grpc)

    def ambiente(self, protocolo: str = "http/protobuf") -> dict:
        porta = self.porta_grpc if protocolo == "grpc" else self.porta_http
        return {"OTEL_EXPORTER_OTLP_PROTOCOL": protocolo,
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{porta}"}

    def _avisar(self, linha: str) -> None:
        print(linha, file=self.saida or sys.stdout, flush=True)

    def iniciar(self) -> "ReceptorEmProcesso":
        self.vigiado.iniciar()
        return self

    def parar(self) -> None:
        self.vigiado.parar()

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        self.parar()
