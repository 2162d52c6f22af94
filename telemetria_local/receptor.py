"""Um receptor OTLP de verdade: HTTP (protobuf e JSON) e gRPC, como o Collector.

Faz o papel do Collector no `make local`, nos testes e no `make bench`: aceita as
exportações dos serviços e entrega os bytes (protobuf) de cada pedido aos consumidores
(o armazém em arquivo, o resumo no terminal). Com `em_memoria=True` (o padrão,
para testes e benchmark) guarda também os pedidos e os bytes crus, para consultar
spans/métricas/logs e procurar o que não deveria estar lá (como um número de cartão).

Qualquer processo da máquina pode mandar qualquer coisa para a 4318, então o lado
HTTP segue a especificação do OTLP/HTTP à risca e não confia no cliente: caminhos
exatos (/v1/traces, /v1/metrics, /v1/logs; o resto é 404), limites de tamanho antes
e depois de descomprimir (413), prazos (`servidor_http`), e o que não dá para ler é
400 com uma linha no terminal — nunca um traceback. A resposta vem no formato do
pedido (protobuf ou JSON), com `partial_success` quando um consumidor recusou parte.
No `make local` ele roda no processo dele (`processo.py`): se cair, o resto segue.
"""
import sys
import threading
import time
from concurrent import futures
from functools import partial

import grpc
from google.protobuf import json_format
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2_grpc as logs_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2_grpc as metrics_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as trace_grpc

from . import corpo, otlp
from .servidor_http import Limites, Pedido, Resposta, ServidorHTTP

# O campo do partial_success que conta o que foi recusado, por sinal.
RECUSADOS = {"traces": "rejected_spans", "metrics": "rejected_data_points", "logs": "rejected_log_records"}


def codificar(mensagem, tipo: str) -> bytes:
    if tipo == corpo.JSON:
        return json_format.MessageToJson(mensagem, indent=None).encode()
    return mensagem.SerializeToString()


def resposta_de_erro(status: int, mensagem: str, cabecalhos: dict) -> Resposta:
    """Um google.rpc.Status com a mensagem, no formato em que o cliente falou (a especificação:
    a resposta de um 4xx/5xx é um Status, com o mesmo Content-Type do pedido)."""
    try:
        tipo = corpo.formato(cabecalhos.get("content-type"))
    except corpo.FormatoNaoAceito:
        tipo = corpo.PROTOBUF
    return Resposta(status, tipo, codificar(status_pb2.Status(message=mensagem), tipo))


class Avisos:
    """Uma linha no stderr por pedido recusado — mas uma enxurrada de lixo não pode virar uma
    enxurrada no terminal: no máximo `maximo` linhas a cada `janela` s, e depois quantas faltaram."""

    def __init__(self, maximo: int = 20, janela: float = 10.0):
        self.maximo, self.janela = maximo, janela
        self._inicio, self._nesta, self._calados = 0.0, 0, 0
        self._trava = threading.Lock()

    def __call__(self, mensagem: str) -> None:
        with self._trava:
            agora = time.monotonic()
            if agora - self._inicio > self.janela:
                if self._calados:
                    print(f"receptor OTLP: ({self._calados} avisos calados nos últimos {self.janela:.0f} s)",
                          file=sys.stderr, flush=True)
                self._inicio, self._nesta, self._calados = agora, 0, 0
            self._nesta += 1
            if self._nesta > self.maximo:
                self._calados += 1
                return
        print(f"receptor OTLP: {mensagem}"[:400], file=sys.stderr, flush=True)


class ReceptorOTLP:
    """`with ReceptorOTLP() as r:` escuta em portas livres de 127.0.0.1;
    `ReceptorOTLP(porta_http=4318, porta_grpc=4317)` nas portas do Collector."""

    def __init__(self, porta_http: int = 0, porta_grpc: int = 0, consumidores=(), em_memoria: bool = True,
                 limites: Limites = Limites()):
        self.porta_http = porta_http
        self.porta_grpc = porta_grpc
        self.consumidores = list(consumidores)
        self.em_memoria = em_memoria
        self.limites = limites
        self.avisar = Avisos()
        self._trava = threading.Lock()
        self.pedidos = {sinal: [] for sinal in otlp.TIPOS}
        self.bytes_crus = bytearray()
        self._http = None
        self._grpc = None

    # --- recepção --------------------------------------------------------
    def _receber(self, sinal: str, corpo: bytes) -> int:
        """Entrega um pedido válido (protobuf) a todos; devolve quantos itens foram recusados."""
        if self.em_memoria:
            # Só guarda os bytes: decodificar para consultar é caro e fica para quando alguém
            # consulta (no benchmark, o receptor divide as 2 CPUs com os serviços).
            with self._trava:
                self.pedidos[sinal].append(corpo)
                self.bytes_crus.extend(corpo)
        recusados = 0
        for consumidor in self.consumidores:
            try:
                recusados += consumidor(sinal, corpo) or 0
            except Exception as erro:  # um consumidor com defeito não derruba o receptor nem os outros
                self.avisar(f"{type(consumidor).__name__} falhou com um pedido de {sinal}: "
                            f"{type(erro).__name__}: {erro}")
        return recusados

    def _resposta(self, sinal: str, recusados: int):
        resposta = otlp.TIPOS[sinal][1]()
        if recusados:
            setattr(resposta.partial_success, RECUSADOS[sinal], recusados)
            # Em inglês, como a especificação pede; o porquê detalhado sai no terminal do receptor.
            resposta.partial_success.error_message = (
                f"{recusados} item(s) dropped: too large for the local store (see the receiver's terminal)")
        return resposta

    def iniciar(self) -> "ReceptorOTLP":
        self._iniciar_http()
        self._iniciar_grpc()
        return self

    def _iniciar_http(self) -> None:
        rotas = {f"/v1/{sinal}": partial(self._exportar_http, sinal) for sinal in otlp.TIPOS}
        self._http = ServidorHTTP(self.porta_http, rotas, erro=resposta_de_erro, limites=self.limites,
                                  avisar=self.avisar).iniciar()
        self.porta_http = self._http.porta

    def _exportar_http(self, sinal: str, pedido: Pedido) -> Resposta:
        """Um POST em /v1/<sinal> (no trabalhador do servidor HTTP)."""
        try:
            tipo = corpo.formato(pedido.cabecalhos.get("content-type"))
            limite = self.limites.json if tipo == corpo.JSON else self.limites.descomprimido
            dados = corpo.descomprimir(pedido.corpo, pedido.cabecalhos.get("content-encoding"), limite)
            mensagem = corpo.decodificar(sinal, dados, tipo)
        except (corpo.CorpoInvalido, corpo.CorpoGrande, corpo.FormatoNaoAceito) as erro:
            self.avisar(f"{erro.status} em {pedido.caminho} de {pedido.cliente}: {erro}")
            return resposta_de_erro(erro.status, str(erro), pedido.cabecalhos)
        recusados = self._receber(sinal, dados if tipo == corpo.PROTOBUF else mensagem.SerializeToString())
        return Resposta(200, tipo, codificar(self._resposta(sinal, recusados), tipo))

    def _iniciar_grpc(self) -> None:
        receptor = self

        def servico(sinal, base):
            class Servico(base):
                def Export(self, request, context):
                    return receptor._resposta(sinal, receptor._receber(sinal, request.SerializeToString()))
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
            self._http.parar()
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
