"""As linhas do terminal dizem a causa, saem em ordem e não esquecem ninguém.

O que a issue viu: 409 e 422 saíam como `erro em ordens: POST` (o span de cliente, que só repete
o status de quem ele chamou); o PUT que desligou a falha apareceu antes do que a ligou; a compra do
`make diagnostico` (continuada de um traceparent de fora) nunca ganhou linha; e `make traces
TRACE=deadbeef` mandava usar mais caracteres de um id que não existe. Tudo sem processo nenhum:
spans montados à mão, o resumo ao vivo chamado direto e o `make traces` num armazém de teste.
"""
import io
import subprocess
import sys
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from bookstore.config import RAIZ
from supervisao.portas import porta_livre
from telemetria_local import armazem, traces
from telemetria_local.ao_vivo import ResumoAoVivo
from telemetria_local.otlp import CLIENTE, INTERNO, SERVIDOR, STATUS_ERRO

ERRO = Status(code=STATUS_ERRO)


def valor(v) -> AnyValue:
    return AnyValue(int_value=v) if isinstance(v, int) else AnyValue(string_value=str(v))


def span(servico: str, nome: str, trace: int, numero: int, pai: int | None = None, kind=SERVIDOR, inicio_ms=0,
         status=None, eventos=(), **atributos) -> tuple[str, Span]:
    feito = Span(trace_id=trace.to_bytes(16, "big"), span_id=numero.to_bytes(8, "big"),
                 parent_span_id=pai.to_bytes(8, "big") if pai else b"", name=nome, kind=kind,
                 start_time_unix_nano=10**18 + inicio_ms * 10**6, end_time_unix_nano=10**18 + (inicio_ms + 5) * 10**6,
                 attributes=[KeyValue(key=k.replace("__", "."), value=valor(v)) for k, v in atributos.items()],
                 status=status)
    for nome_evento, atributos_evento in eventos:
        feito.events.add(name=nome_evento, attributes=[KeyValue(key=k, value=valor(v))
                                                       for k, v in atributos_evento.items()])
    return servico, feito


def pedido(*spans) -> ExportTraceServiceRequest:
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=[KeyValue(key="service.name", value=valor(servico))]),
        scope_spans=[ScopeSpans(spans=[feito])]) for servico, feito in spans])


def achatados(*spans) -> list[dict]:
    from telemetria_local import otlp
    return otlp.spans(pedido(*spans))


def test_409_diz_o_desfecho_da_compra_e_nao_o_span_de_cliente():
    linha = traces.linha(achatados(
        span("ordens", "POST /ordens", 1, 1, http__response__status_code=409,
             bookstore__ordem__status="estoque_indisponivel"),
        span("ordens", "saga.reservar_estoque", 1, 2, pai=1, kind=INTERNO, eventos=[(
            "bookstore.ordem.transicao", {"bookstore.ordem.status": "estoque_indisponivel"})]),
        span("ordens", "POST", 1, 3, pai=2, kind=CLIENTE, status=ERRO, http__response__status_code=409),
        span("livros", "POST /reservas", 1, 4, pai=3, http__response__status_code=409)))
    assert linha.startswith("✘ trace 00000000… POST /ordens 409 ")
    assert linha.endswith("— estoque_indisponivel") and "erro em ordens: POST" not in linha


def test_402_ganha_o_x_como_o_409_mesmo_sem_span_de_erro():
    """A compra recusada: pagamentos responde 201 "recusado" (um desfecho, não um erro), nenhum span tem
    status de erro, e a resposta ao cliente é 402 — a linha é ✘, como a do 409."""
    linha = traces.linha(achatados(
        span("ordens", "POST /ordens", 3, 1, http__response__status_code=402,
             bookstore__ordem__status="pagamento_recusado"),
        span("ordens", "POST", 3, 2, pai=1, kind=CLIENTE, http__response__status_code=201),
        span("pagamentos", "POST /pagamentos", 3, 3, pai=2, http__response__status_code=201)))
    assert linha.startswith("✘ trace 00000000… POST /ordens 402 "), linha
    assert linha.endswith("— pagamento_recusado"), linha


def test_422_diz_o_campo_que_a_resposta_nomeia():
    linha = traces.linha(achatados(
        span("ordens", "POST /ordens", 2, 1, http__response__status_code=422, bookstore__erro__campo="itens[0].livro_id"),
        span("ordens", "GET", 2, 2, pai=1, kind=CLIENTE, status=ERRO, http__response__status_code=404),
        span("livros", "GET /livros/<int:livro_id>", 2, 3, pai=2, http__response__status_code=404)))
    assert linha.endswith("— itens[0].livro_id"), linha


def test_503_diz_o_desfecho_e_o_motivo_da_compensacao():
    linha = traces.linha(achatados(
        span("ordens", "POST /ordens", 3, 1, http__response__status_code=503, bookstore__ordem__status="falhou"),
        span("ordens", "saga.compensar", 3, 2, pai=1, kind=INTERNO, bookstore__ordem__motivo="pagamentos_indisponivel"),
        span("pagamentos", "POST /pagamentos", 3, 3, pai=1, status=ERRO, http__response__status_code=500)))
    assert linha.endswith("— falhou: pagamentos_indisponivel"), linha


def test_erro_sem_desfecho_aponta_o_span_onde_nasceu_e_nao_o_cliente():
    linha = traces.linha(achatados(
        span("pagamentos", "PUT /admin/falhas", 4, 1, http__response__status_code=500),
        span("pagamentos", "POST", 4, 2, pai=1, kind=CLIENTE, status=ERRO),
        span("pagamentos", "UPDATE", 4, 3, pai=1, kind=INTERNO, status=Status(code=STATUS_ERRO, message="timeout"))))
    assert linha.endswith("— erro em pagamentos: UPDATE (timeout)"), linha


def resumo(**opcoes) -> tuple[ResumoAoVivo, io.StringIO]:
    saida = io.StringIO()
    return ResumoAoVivo(saida=saida, **opcoes), saida


def test_linhas_saem_na_ordem_em_que_os_traces_comecaram():
    """O PUT que ligou a falha começou antes; a raiz dele chegou depois (outro worker)."""
    ao_vivo, saida = resumo(espera=0.3)
    desligou = span("pagamentos", "PUT /admin/falhas", 6, 1, inicio_ms=200, http__response__status_code=200)
    ligou = span("pagamentos", "PUT /admin/falhas", 5, 1, inicio_ms=100, http__response__status_code=200)
    ao_vivo("traces", pedido(desligou).SerializeToString())
    time.sleep(0.35)
    ao_vivo("traces", pedido(ligou).SerializeToString())
    ao_vivo._imprimir_prontos(time.monotonic())
    assert saida.getvalue() == ""  # a do desligar está pronta, mas espera a que começou antes
    ao_vivo._imprimir_prontos(time.monotonic() + 0.3)
    assert [linha.split()[1] for linha in saida.getvalue().splitlines()] == ["00000000…"] * 2
    assert [linha for linha in saida.getvalue().splitlines()] == [
        traces.linha(achatados(ligou)), traces.linha(achatados(desligou))]


def test_trace_continuado_de_fora_ganha_linha_quando_fica_quieto():
    """A compra do make diagnostico: o pai do POST /ordens é o traceparent que ele inventou."""
    ao_vivo, saida = resumo(espera=0.1, espera_sem_raiz=0.2)
    ao_vivo("traces", pedido(
        span("ordens", "POST /ordens", 7, 2, pai=99, http__response__status_code=402,
             bookstore__ordem__status="pagamento_recusado"),
        span("livros", "POST /reservas", 7, 3, pai=2)).SerializeToString())
    ao_vivo._imprimir_prontos(time.monotonic())
    assert saida.getvalue() == ""  # ainda pode chegar mais
    ao_vivo._imprimir_prontos(time.monotonic() + 0.2)
    linha, = saida.getvalue().splitlines()
    assert "POST /ordens 402" in linha and "sem raiz aqui" in linha and linha.endswith("— pagamento_recusado")
    # Um span atrasado do mesmo trace não vira outra linha.
    ao_vivo("traces", pedido(span("pagamentos", "POST /pagamentos", 7, 4, pai=2)).SerializeToString())
    ao_vivo._imprimir_prontos(time.monotonic() + 1)
    assert len(saida.getvalue().splitlines()) == 1


def test_trace_em_andamento_nao_ganha_linha_antes_da_raiz():
    """Exercício 10: a raiz fica aberta 10 s; os passos da saga já chegaram, sem o pai (a raiz)."""
    ao_vivo, saida = resumo(espera=0.1, espera_sem_raiz=0.1)
    ao_vivo("traces", pedido(span("ordens", "saga.validar_catalogo", 8, 2, pai=1, kind=INTERNO),
                             span("livros", "GET /livros/<int:livro_id>", 8, 4, pai=3)).SerializeToString())
    ao_vivo._imprimir_prontos(time.monotonic() + 1)
    assert saida.getvalue() == ""


def make_traces(pasta, *argumentos) -> subprocess.CompletedProcess:
    # Nenhum ordens nesta porta: o make traces não tem compra a esperar.
    ambiente = {"PATH": "/usr/bin:/bin", "PORTA_ORDENS": str(porta_livre())}
    return subprocess.run([sys.executable, "-m", "telemetria_local", "--pasta", str(pasta), *argumentos],
                          cwd=RAIZ, capture_output=True, text=True, timeout=60, env=ambiente)


def test_make_traces_com_id_desconhecido_diz_que_nao_achou(tmp_path):
    armazem.Armazem(tmp_path)("traces", pedido(span("livros", "GET /livros", 0xabc, 1)).SerializeToString())
    resultado = make_traces(tmp_path, "deadbeef")
    assert resultado.returncode == 1
    assert "trace 'deadbeef' não encontrado" in resultado.stderr and "mais caracteres" not in resultado.stderr, \
        resultado.stderr
    assert make_traces(tmp_path, "0000").returncode == 0  # o começo do id de um que existe
