"""Um receptor OTLP de verdade: HTTP/protobuf e gRPC, como o Collector.

Faz o papel do Collector no `make local`, nos testes e no `make bench`: aceita as
exportações dos serviços e entrega os bytes de cada pedido aos consumidores
(o armazém em arquivo, o resumo no terminal). Com `em_memoria=True` (o padrão,
para testes e benchmark) guarda também os pedidos e os bytes crus, para consultar
spans/métricas/logs e procurar o que não deveria estar lá (como um número de cartão).
"""
import gzip
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as metrics_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as trace_grpc

from . import otlp


class ReceptorOTLP:
    """`with ReceptorOTLP() as r:` escuta em portas livres de 127.0.0.1;
    `ReceptorOTLP(porta_http=4318, porta_grpc=4317)` nas portas do Collector."""

    def __init__(self, porta_http: int = 0, porta_grpc: int = 0, consumidores=(), em_memoria: bool = True):
        self.porta_http = porta_http
        self.porta_grpc = porta_grpc
        self.consumidores = list(consumidores)
        self.em_memoria = em_memoria
        self._trava = threading.Lock()
        self.pedidos = {sinal: [] for sinal in otlp.TIPOS}
        self.bytes_crus = bytearray()
        self._http = None
        self._grpc = None

    # --- recepção --------------------------------------------------------
    def _receber(self, sinal: str, corpo: bytes) -> None:
        if self.em_memoria:
            # Só guarda os bytes: decodificar é caro e fica para quando alguém
            # consulta (no benchmark, o receptor divide as 2 CPUs com os serviços).
            with self._trava:
                self.pedidos[sinal].append(corpo)
                self.bytes_crus.extend(corpo)
        for consumidor in self.consumidores:
            consumidor(sinal, corpo)

    def iniciar(self) -> "ReceptorOTLP":
        self._iniciar_http()
        self._iniciar_grpc()
        return self

    def _iniciar_http(self) -> None:
        receptor = self

        class Manipulador(BaseHTTPRequestHandler):
            def do_POST(self):
                sinal = self.path.rstrip("/").rsplit("/", 1)[-1]
                corpo = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if sinal not in otlp.TIPOS:
                    self.send_response(404)
                    self.end_headers()
                    return
                if self.headers.get("Content-Encoding") == "gzip":
                    corpo = gzip.decompress(corpo)
                receptor._receber(sinal, corpo)
                resposta = otlp.TIPOS[sinal][1]().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(resposta)))
                self.end_headers()
                self.wfile.write(resposta)

            def log_message(self, *args):
                pass  # o terminal é dos traces, não de uma linha por exportação

        self._http = ThreadingHTTPServer(("127.0.0.1", self.porta_http), Manipulador)
        self._http.daemon_threads = True
        self.porta_http = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, name="receptor-otlp-http", daemon=True).start()

    def _iniciar_grpc(self) -> None:
        receptor = self

        def servico(sinal, base):
            class Servico(base):
                def Export(self, request, context):
                    receptor._receber(sinal, request.SerializeToString())
                    return otlp.TIPOS[sinal][1]()
            return Servico()

        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_grpc.add_TraceServiceServicer_to_server(servico("traces", trace_grpc.TraceServiceServicer), self._grpc)
        metrics_grpc.add_MetricsServiceServicer_to_server(
            servico("metrics", metrics_grpc.MetricsServiceServicer), self._grpc)
        logs_grpc.add_LogsServiceServicer_to_server(servico("logs", logs_grpc.LogsServiceServicer), self._grpc)
        try:
            porta = self._grpc.add_insecure_port(f"127.0.0.1:{self.porta_grpc}")
        except RuntimeError:  # conforme a versão, o grpcio lança exceção ou devolve 0
            porta = 0
        if porta == 0:
            self._grpc = None
            raise OSError(f"não consegui escutar na porta gRPC {self.porta_grpc}")
        self.porta_grpc = porta
        self._grpc.start()

    def parar(self) -> None:
        if self._http:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._grpc:
            self._grpc.stop(grace=None)
            self._grpc = None

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        self.parar()

    def ambiente(self, protocolo: str = "http/protobuf") -> dict:
        """As variáveis OTEL_* que apontam um serviço para este receptor."""
        porta = self.porta_grpc if protocolo == "grpc" else self.porta_http
        return {"OTEL_EXPORTER_OTLP_PROTOCOL": protocolo,
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{porta}"}

    # --- consulta (em_memoria=True) ------------------------------------------
    def _achatados(self, sinal: str) -> list[dict]:
        with self._trava:
            brutos = list(self.pedidos[sinal])
        tipo = otlp.TIPOS[sinal][0]
        return [item for corpo in brutos for item in otlp.ACHATAR[sinal](tipo.FromString(corpo))]

    def spans(self) -> list[dict]:
        """Todos os spans recebidos, achatados, com o recurso de quem os mandou."""
        return self._achatados("traces")

    def metricas(self) -> list[dict]:
        return self._achatados("metrics")

    def logs(self) -> list[dict]:
        return self._achatados("logs")
