"""Os tipos do OTLP e as duas codificações que o laboratório usa.

- protobuf: o que os serviços exportam (HTTP/protobuf ou gRPC);
- OTLP/JSON: o mapeamento JSON do protobuf com os ajustes da especificação do
  OTLP (ids de trace e span em hexadecimal, enums como números, nomes em
  lowerCamelCase). É o que o exporter `file` do Collector grava e o que a API
  `/api/v3` do Jaeger responde, então um mesmo leitor serve aos dois.

O `google.protobuf.json_format` segue o mapeamento genérico, em que campos
`bytes` são base64. Ler um id hexadecimal como base64 não dá erro — dá um id
errado, calado. Por isso `para_json`/`de_json` convertem os ids nos dois sentidos.
"""
import base64
import json

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

# sinal (como no caminho /v1/<sinal>) → (pedido, resposta)
TIPOS = {
    "traces": (trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
    "metrics": (metrics_service_pb2.ExportMetricsServiceRequest, metrics_service_pb2.ExportMetricsServiceResponse),
    "logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
}
# A especificação escreve os nomes em lowerCamelCase, mas o próprio exemplo dela usa "trace_id"; o
# json_format aceita os dois nomes, então os dois precisam da conversão (senão viram base64, calados).
CAMPOS_DE_ID = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
# Quem não diz o seu service.name aparece como o SDK o chamaria (a especificação de recursos).
SERVICO_DESCONHECIDO = "unknown_service"
# SpanKind e StatusCode do protobuf, com os nomes que aparecem no Jaeger.
INTERNO, SERVIDOR, CLIENTE, PRODUTOR, CONSUMIDOR = 1, 2, 3, 4, 5
TIPOS_DE_SPAN = {0: "?", INTERNO: "INTERNAL", SERVIDOR: "SERVER", CLIENTE: "CLIENT", PRODUTOR: "PRODUCER",
                 CONSUMIDOR: "CONSUMER"}
STATUS_OK, STATUS_ERRO = 1, 2


def _converter_ids(valor, converter):
    if isinstance(valor, dict):
        return {chave: (converter(v) if chave in CAMPOS_DE_ID and v else _converter_ids(v, converter))
                for chave, v in valor.items()}
    if isinstance(valor, list):
        return [_converter_ids(v, converter) for v in valor]
    return valor


def para_json(pedido) -> str:
    """Um pedido de exportação (protobuf) → uma linha de OTLP/JSON."""
    dicionario = json_format.MessageToDict(pedido, use_integers_for_enums=True)
    return json.dumps(_converter_ids(dicionario, lambda b64: base64.b64decode(b64).hex()),
                      ensure_ascii=False, separators=(",", ":"))


def de_json(sinal: str, linha: str | dict):
    """Uma linha de OTLP/JSON (ou o dict já lido) → o pedido de exportação em protobuf."""
    dicionario = json.loads(linha) if isinstance(linha, (str, bytes)) else linha
    dicionario = _converter_ids(dicionario, lambda hexa: base64.b64encode(bytes.fromhex(hexa)).decode())
    return json_format.ParseDict(dicionario, TIPOS[sinal][0](), ignore_unknown_fields=True)


def valor(any_value):
    """AnyValue do protobuf → valor Python. Qualquer cliente pode mandar um AnyValue vazio
    (None), listas de listas ou kvlists: nada disso pode quebrar quem lê."""
    tipo = any_value.WhichOneof("value")
    if tipo == "array_value":
        return [valor(v) for v in any_value.array_value.values]
    if tipo == "kvlist_value":
        return atributos(any_value.kvlist_value.values)
    return getattr(any_value, tipo) if tipo else None


def atributos(lista) -> dict:
    """KeyValue do protobuf → dict Python."""
    return {kv.key: valor(kv.value) for kv in lista}


def nome_do_servico(recurso: dict) -> str:
    nome = recurso.get("service.name")
    return SERVICO_DESCONHECIDO if nome in (None, "") else str(nome)


def _percorrer(pedido, recursos: str, escopos: str, itens: str):
    """(recurso, escopo, item) de cada item: os três sinais do OTLP têm a mesma
    forma, pedido → recursos → escopos → itens."""
    for por_recurso in getattr(pedido, recursos):
        recurso = atributos(por_recurso.resource.attributes)
        for por_escopo in getattr(por_recurso, escopos):
            for item in getattr(por_escopo, itens):
                yield recurso, por_escopo.scope, item


def spans(pedido) -> list[dict]:
    """Os spans de um ExportTraceServiceRequest, achatados, com o recurso de quem os mandou."""
    return [{
        "servico": nome_do_servico(recurso), "recurso": recurso,
        "escopo": escopo.name, "nome": span.name, "kind": span.kind,
        "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
        "parent_id": span.parent_span_id.hex(), "atributos": atributos(span.attributes),
        "inicio_ns": span.start_time_unix_nano, "fim_ns": span.end_time_unix_nano,
        "eventos": [(e.name, atributos(e.attributes)) for e in span.events],
        "status": span.status.code, "status_mensagem": span.status.message,
        "links": [(link.trace_id.hex(), link.span_id.hex()) for link in span.links],  # mensagens
    } for recurso, escopo, span in _percorrer(pedido, "resource_spans", "scope_spans", "spans")]


def metricas(pedido) -> list[dict]:
    saida = []
    for recurso, _, metrica in _percorrer(pedido, "resource_metrics", "scope_metrics", "metrics"):
        tipo = metrica.WhichOneof("data")  # None numa métrica sem dados (válida no protobuf)
        saida.append({"nome": metrica.name, "unidade": metrica.unit, "tipo": tipo or "?", "recurso": recurso,
                      "monotonica": tipo == "sum" and metrica.sum.is_monotonic,
                      "pontos": [atributos(p.attributes) for p in getattr(metrica, tipo).data_points] if tipo else []})
    return saida


def logs(pedido) -> list[dict]:
    return [{"recurso": recurso, "corpo": registro.body.string_value,
             "trace_id": registro.trace_id.hex(), "span_id": registro.span_id.hex(),
             "severidade": registro.severity_text, "atributos": atributos(registro.attributes)}
            for recurso, _, registro in _percorrer(pedido, "resource_logs", "scope_logs", "log_records")]


ACHATAR = {"traces": spans, "metrics": metricas, "logs": logs}
# Os campos de cada nível (pedido → recursos → escopos → itens), na ordem.
NIVEIS = {"traces": ("resource_spans", "scope_spans", "spans"),
          "metrics": ("resource_metrics", "scope_metrics", "metrics"),
          "logs": ("resource_logs", "scope_logs", "log_records")}


def contar(sinal: str, pedido) -> int:
    """Quantos spans, pontos de métrica ou registros de log o pedido tem — a unidade que o
    `partial_success` da resposta do OTLP conta ao recusar uma parte."""
    recursos, escopos, itens = NIVEIS[sinal]
    total = 0
    for _, _, item in _percorrer(pedido, recursos, escopos, itens):
        if sinal == "metrics":
            tipo = item.WhichOneof("data")
            total += len(getattr(item, tipo).data_points) if tipo else 0
        else:
            total += 1
    return total
