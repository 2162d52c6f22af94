"""Um receptor OTLP de verdade (HTTP/protobuf e gRPC) para testes e benchmark.

Faz o papel do Collector: aceita as exportações dos serviços numa porta livre,
decodifica o protobuf com `opentelemetry-proto` e guarda tudo em memória.
Guarda também os bytes crus, para procurar o que não deveria estar lá
(como um número de cartão).
"""
import gzip
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_pb, logs_service_pb2_grpc as logs_grpc
from opentelemetry.proto.collector.metrics.v1 import (metrics_service_pb2 as metrics_pb,
                                                      metrics_service_pb2_grpc as metrics_grpc)
from opentelemetry.proto.collector.trace.v1 import (trace_service_pb2 as trace_pb,
                                                    trace_service_pb2_grpc as trace_grpc)

from .postgres import porta_livre

TIPOS = {
    "traces": (trace_pb.ExportTraceServiceRequest, trace_pb.ExportTraceServiceResponse),
    "metrics": (metrics_pb.ExportMetricsServiceRequest, metrics_pb.ExportMetricsServiceResponse),
    "logs": (logs_pb.ExportLogsServiceRequest, logs_pb.ExportLogsServiceResponse),
}


def atributos(lista) -> dict:
    """KeyValue do protobuf → dict Python."""
    saida = {}
    for kv in lista:
        valor = kv.value
        tipo = valor.WhichOneof("value")
        if tipo == "array_value":
            saida[kv.key] = [getattr(v, v.WhichOneof("value")) for v in valor.array_value.values]
        else:
            saida[kv.key] = getattr(valor, tipo) if tipo else None
    return saida


class ReceptorOTLP:
    def __init__(self):
        self.porta_http = porta_livre()
        self.porta_grpc = porta_livre()
        self._trava = threading.Lock()
        self.pedidos = {sinal: [] for sinal in TIPOS}
        self.bytes_crus = bytearray()
        self._http = None
        self._grpc = None

    # --- recepção --------------------------------------------------------
    def _guardar(self, sinal: str, corpo: bytes):
        # Só guarda os bytes: decodificar é caro e fica para quando alguém
        # consulta (no benchmark, o receptor divide as 2 CPUs com os serviços).
        with self._trava:
            self.pedidos[sinal].append(corpo)
            self.bytes_crus.extend(corpo)

    def _decodificados(self, sinal: str) -> list:
        with self._trava:
            brutos = list(self.pedidos[sinal])
        return [TIPOS[sinal][0].FromString(corpo) for corpo in brutos]

    def iniciar(self) -> "ReceptorOTLP":
        receptor = self

        class Manipulador(BaseHTTPRequestHandler):
            def do_POST(self):
                sinal = self.path.rstrip("/").rsplit("/", 1)[-1]
                corpo = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    corpo = gzip.decompress(corpo)
                if sinal not in TIPOS:
                    self.send_response(404)
                    self.end_headers()
                    return
                receptor._guardar(sinal, corpo)
                resposta = TIPOS[sinal][1]().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(resposta)))
                self.end_headers()
                self.wfile.write(resposta)

            def log_message(self, *args):
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", self.porta_http), Manipulador)
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

        def servico(sinal, base):
            class Servico(base):
                def Export(self, request, context):
                    receptor._guardar(sinal, request.SerializeToString())
                    return TIPOS[sinal][1]()
            return Servico()

        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_grpc.add_TraceServiceServicer_to_server(servico("traces", trace_grpc.TraceServiceServicer), self._grpc)
        metrics_grpc.add_MetricsServiceServicer_to_server(
            servico("metrics", metrics_grpc.MetricsServiceServicer), self._grpc)
        logs_grpc.add_LogsServiceServicer_to_server(servico("logs", logs_grpc.LogsServiceServicer), self._grpc)
        self._grpc.add_insecure_port(f"127.0.0.1:{self.porta_grpc}")
        self._grpc.start()
        return self

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

    # --- consulta ----------------------------------------------------------
    def _percorrer(self, sinal: str, recursos: str, escopos: str, itens: str):
        """(recurso, escopo, item) de cada item recebido: os três sinais do OTLP têm
        a mesma forma, pedido → recursos → escopos → itens."""
        for pedido in self._decodificados(sinal):
            for por_recurso in getattr(pedido, recursos):
                recurso = atributos(por_recurso.resource.attributes)
                for por_escopo in getattr(por_recurso, escopos):
                    for item in getattr(por_escopo, itens):
                        yield recurso, por_escopo.scope, item

    def spans(self) -> list[dict]:
        """Todos os spans recebidos, achatados, com o recurso de quem os mandou."""
        return [{
            "servico": recurso.get("service.name"), "recurso": recurso,
            "escopo": escopo.name, "nome": span.name, "kind": span.kind,
            "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
            "parent_id": span.parent_span_id.hex(), "atributos": atributos(span.attributes),
            "eventos": [(e.name, atributos(e.attributes)) for e in span.events],
            "status": span.status.code,
        } for recurso, escopo, span in self._percorrer("traces", "resource_spans", "scope_spans", "spans")]

    def metricas(self) -> list[dict]:
        saida = []
        for recurso, _, metrica in self._percorrer("metrics", "resource_metrics", "scope_metrics", "metrics"):
            tipo = metrica.WhichOneof("data")
            saida.append({"nome": metrica.name, "unidade": metrica.unit, "tipo": tipo, "recurso": recurso,
                          "pontos": [atributos(p.attributes) for p in getattr(metrica, tipo).data_points]})
        return saida

    def logs(self) -> list[dict]:
        return [{"recurso": recurso, "corpo": registro.body.string_value,
                 "trace_id": registro.trace_id.hex(), "span_id": registro.span_id.hex(),
                 "severidade": registro.severity_text}
                for recurso, _, registro in self._percorrer("logs", "resource_logs", "scope_logs", "log_records")]
