"""Telemetria dentro do processo: exportadores em memória do próprio SDK.

Os providers globais só podem ser definidos uma vez por processo; a fixture
de sessão os define e cada teste limpa o exportador de spans antes de agir.
"""
import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import livros
import ordens
import pagamentos
from bookstore import db
from tests.apoio import CARTAO_RECUSADO, criar_app_de_teste, criar_livro, esperar, esvaziar, injetar_falha

CARTAO = "4111111111111111"


@pytest.fixture(scope="session")
def telemetria_em_memoria():
    spans = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(tracer_provider)
    leitor = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[leitor]))
    return spans, leitor


@pytest.fixture
def spans(telemetria_em_memoria):
    exportador = telemetria_em_memoria[0]
    exportador.clear()
    return exportador


def spans_quando(exportador, condicao, limite=3.0):
    """O span de servidor termina depois que a resposta sai: espera por ele."""
    def terminados():
        lidos = exportador.get_finished_spans()
        return lidos if condicao(lidos) else None
    return esperar(terminados, limite, intervalo=0.02, descricao="o span de servidor terminar")


def por_nome(terminados, nome):
    return [span for span in terminados if span.name == nome]


def tem_servidor(rota):
    return lambda terminados: any(s.kind == SpanKind.SERVER and s.name == rota for s in terminados)


def pontos(leitor, nome):
    dados = leitor.get_metrics_data()
    for rm in dados.resource_metrics if dados else []:
        for sm in rm.scope_metrics:
            for metrica in sm.metrics:
                if metrica.name == nome:
                    return metrica, list(metrica.data.data_points)
    return None, []


@pytest.fixture
def app_livros(postgres, telemetria_em_memoria):
    app = criar_app_de_teste(postgres, livros.create_app, "teste_livros", CATALOGO_INICIAL=False)
    yield app
    db.fechar(app)


@pytest.fixture
def app_pagamentos(postgres, telemetria_em_memoria):
    app = criar_app_de_teste(postgres, pagamentos.create_app, "teste_pagamentos")
    yield app
    db.fechar(app)


def test_reserva_gera_span_de_servidor_span_de_negocio_e_sql(app_livros, spans):
    client = app_livros.test_client()
    livro = client.post("/livros", json={"titulo": "A", "preco": 10, "estoque": 3}).json["id"]
    spans.clear()
    assert client.post("/reservas", json={"itens": [{"livro_id": livro, "quantidade": 2}]}).status_code == 201
    terminados = spans_quando(spans, tem_servidor("POST /reservas"))
    [servidor] = [s for s in terminados if s.kind == SpanKind.SERVER]
    [negocio] = por_nome(terminados, "estoque.reservar")
    assert negocio.parent.span_id == servidor.context.span_id
    assert negocio.attributes["bookstore.reserva.resultado"] == "criada"
    assert tuple(negocio.attributes["bookstore.livro.ids"]) == (livro,)
    assert [e.name for e in negocio.events] == ["bookstore.estoque.travado"]
    sql = [s for s in terminados if s.attributes.get("db.system") == "postgresql"]
    assert any("FOR UPDATE" in s.attributes.get("db.statement", "") for s in sql)
    # Travar, ler o disponível, gravar reserva e itens; a resposta não relê o banco.
    assert len(sql) == 4, [s.attributes["db.statement"] for s in sql]
    assert all(s.context.trace_id == servidor.context.trace_id for s in terminados)
    assert all(s.kind == SpanKind.CLIENT for s in sql)


def test_confirmacao_baixa_o_estoque_e_confirma_num_comando_so(app_livros, spans):
    client = app_livros.test_client()
    livro = client.post("/livros", json={"titulo": "A", "preco": 10, "estoque": 3}).json["id"]
    reserva = client.post("/reservas", json={"itens": [{"livro_id": livro, "quantidade": 2}]}).json["id"]
    spans.clear()
    assert client.post(f"/reservas/{reserva}/confirmacao").json["status"] == "confirmada"
    terminados = spans_quando(spans, tem_servidor("POST /reservas/<uuid:reserva_id>/confirmacao"))
    sql = [s.attributes["db.statement"] for s in terminados if s.attributes.get("db.system") == "postgresql"]
    # Travar a reserva, travar os livros, ler o relógio, baixa + confirmação (um comando com
    # CTE) e a leitura da resposta.
    assert len(sql) == 5, sql
    assert client.get(f"/livros/{livro}").json["estoque"] == 1


def test_sem_estoque_nao_e_erro_de_sistema(app_livros, spans):
    client = app_livros.test_client()
    livro = client.post("/livros", json={"titulo": "A", "preco": 10, "estoque": 1}).json["id"]
    assert client.post("/reservas", json={"itens": [{"livro_id": livro, "quantidade": 2}]}).status_code == 409
    [negocio] = por_nome(spans_quando(spans, tem_servidor("POST /reservas")), "estoque.reservar")
    assert negocio.attributes["bookstore.reserva.resultado"] == "sem_estoque"
    assert negocio.status.status_code == StatusCode.UNSET


def test_health_e_ready_nao_geram_spans(app_livros, spans):
    client = app_livros.test_client()
    assert client.get("/health").status_code == 200 and client.get("/ready").status_code == 200
    # Uma requisição que gera span, depois: quando o span dela chega, os anteriores já teriam chegado.
    assert client.get("/livros").status_code == 200
    terminados = spans_quando(spans, tem_servidor("GET /livros"))
    assert {s.name for s in terminados if s.kind == SpanKind.SERVER} == {"GET /livros"}


def test_falha_injetada_e_span_de_erro_com_excecao(app_pagamentos, spans):
    client = app_pagamentos.test_client()
    client.put("/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 1})
    spans.clear()
    assert client.get("/pagamentos/1").status_code == 500
    [servidor] = [s for s in spans_quando(spans, tem_servidor("GET /pagamentos/<int:pagamento_id>"))
                  if s.kind == SpanKind.SERVER]
    assert servidor.status.status_code == StatusCode.ERROR
    assert servidor.attributes["bookstore.falha.injetada"] is True
    assert any(e.name == "exception" for e in servidor.events)


def test_decisao_de_pagamento_so_com_o_final_do_cartao(app_pagamentos, spans, telemetria_em_memoria):
    client = app_pagamentos.test_client()
    assert client.post("/pagamentos", json={"ordem_id": 1, "valor": 10, "cartao": CARTAO}).status_code == 201
    terminados = spans_quando(spans, tem_servidor("POST /pagamentos"))
    [decisao] = por_nome(terminados, "pagamentos.decidir")
    assert decisao.attributes["bookstore.pagamento.status"] == "aprovado"
    assert decisao.attributes["bookstore.cartao.final"] == "1111"
    todos_os_valores = " ".join(str(v) for s in terminados for v in s.attributes.values())
    assert CARTAO not in todos_os_valores
    _, pontos_pagamentos = pontos(telemetria_em_memoria[1], "bookstore.pagamentos")
    assert any(p.attributes["bookstore.pagamento.status"] == "aprovado" for p in pontos_pagamentos)


@pytest.fixture
def app_ordens(postgres, vizinhos, telemetria_em_memoria):
    for url in vizinhos.bancos.values():
        esvaziar(url)
    # ids de ordem que não se repetem entre testes (o mesmo motivo de tests/test_ordens.py)
    app = criar_app_de_teste(postgres, ordens.create_app, "teste_ordens", reiniciar_ids=False,
                             LIVROS_URL=vizinhos.url("livros"),
                             PAGAMENTOS_URL=vizinhos.url("pagamentos"), ORDENS_RECUPERACAO_AUTOMATICA=False)
    yield app
    db.fechar(app)
    injetar_falha(vizinhos, "pagamentos")


def eventos_de_transicao(terminados) -> list[str]:
    eventos = [(e.timestamp, e.attributes["bookstore.ordem.status"]) for s in terminados for e in s.events
               if e.name == "bookstore.ordem.transicao"]
    return [status for _, status in sorted(eventos)]


@pytest.mark.e2e
def test_saga_feliz_um_span_por_passo_e_eventos_de_transicao(app_ordens, vizinhos, spans, telemetria_em_memoria):
    livro = criar_livro(vizinhos, preco="20.00", estoque=2)
    resposta = app_ordens.test_client().post("/ordens", json={"itens": [{"livro_id": livro, "quantidade": 1}]})
    assert resposta.status_code == 201
    terminados = spans_quando(spans, tem_servidor("POST /ordens"))
    [servidor] = [s for s in terminados if s.kind == SpanKind.SERVER]
    passos = [s.name for s in sorted(terminados, key=lambda s: s.start_time) if s.name.startswith("saga.")]
    assert passos == ["saga.validar_catalogo", "saga.reservar_estoque", "saga.cobrar", "saga.confirmar_reserva"]
    assert all(s.parent.span_id == servidor.context.span_id for s in terminados if s.name.startswith("saga."))
    assert eventos_de_transicao(terminados) == ["criada", "estoque_reservado", "pagamento_aprovado", "concluida"]
    assert servidor.attributes["bookstore.ordem.status"] == "concluida"
    clientes_http = [s for s in terminados if s.kind == SpanKind.CLIENT and "db.system" not in s.attributes
                     and s.context.trace_id == servidor.context.trace_id]
    assert len(clientes_http) == 4  # GET livro, POST reserva, POST pagamento, POST confirmação
    # Um comando SQL por passo gravado (o histórico vem do trigger; ordem e itens, preços e
    # status vão juntos, com CTE): criar, reserva, pagamento aprovado, concluída e a leitura
    # da resposta.
    sql = [s.attributes["db.statement"] for s in terminados if s.attributes.get("db.system") == "postgresql"]
    assert len(sql) == 5, sql
    assert not any("ordem_historico" in comando and "INSERT" in comando for comando in sql)
    _, pontos_ordens = pontos(telemetria_em_memoria[1], "bookstore.ordens")
    assert any(p.attributes["bookstore.ordem.status"] == "concluida" and p.value >= 1 for p in pontos_ordens)
    metrica, _ = pontos(telemetria_em_memoria[1], "bookstore.ordem.valor")
    assert metrica.unit == "{BRL}"


@pytest.mark.e2e
def test_lista_de_ordens_e_uma_consulta_so(app_ordens, vizinhos, spans):
    livro = criar_livro(vizinhos, estoque=5)
    client = app_ordens.test_client()
    for _ in range(3):
        assert client.post("/ordens", json={"itens": [{"livro_id": livro, "quantidade": 1}]}).status_code == 201
    spans.clear()
    assert len(client.get("/ordens?limite=3").json) == 3
    terminados = spans_quando(spans, tem_servidor("GET /ordens"))
    assert len([s for s in terminados if s.attributes.get("db.system") == "postgresql"]) == 1


@pytest.mark.e2e
def test_saga_recusada_compensa_com_span_proprio(app_ordens, vizinhos, spans):
    livro = criar_livro(vizinhos, estoque=2)
    resposta = app_ordens.test_client().post("/ordens", json={"itens": [{"livro_id": livro, "quantidade": 1}],
                                                              "cartao": CARTAO_RECUSADO})
    assert resposta.status_code == 402
    terminados = spans_quando(spans, tem_servidor("POST /ordens"))
    [compensar] = por_nome(terminados, "saga.compensar")
    assert compensar.attributes["bookstore.ordem.desfecho"] == "pagamento_recusado"
    assert compensar.status.status_code == StatusCode.UNSET
    assert eventos_de_transicao(terminados)[-1] == "pagamento_recusado"


@pytest.mark.e2e
def test_dependencia_falhando_marca_o_passo_como_erro(app_ordens, vizinhos, spans):
    livro = criar_livro(vizinhos, estoque=2)
    injetar_falha(vizinhos, "pagamentos", taxa_erro=1)
    spans.clear()
    resposta = app_ordens.test_client().post("/ordens", json={"itens": [{"livro_id": livro, "quantidade": 1}]})
    assert resposta.status_code == 503
    terminados = spans_quando(spans, tem_servidor("POST /ordens"))
    [cobrar] = por_nome(terminados, "saga.cobrar")
    assert cobrar.status.status_code == StatusCode.ERROR
    assert cobrar.status.description == "pagamentos_indisponivel"
    assert any(e.name == "exception" for e in cobrar.events)


def test_gauge_de_estoque_por_livro(app_livros, telemetria_em_memoria):
    client = app_livros.test_client()
    livro = client.post("/livros", json={"titulo": "A", "preco": 10, "estoque": 7}).json["id"]
    metrica, pontos_estoque = pontos(telemetria_em_memoria[1], "bookstore.livro.estoque")
    assert metrica.unit == "{exemplar}"
    assert any(p.attributes == {"bookstore.livro.id": livro} and p.value == 7 for p in pontos_estoque)


def test_otel_env_corta_no_sdk_o_atributo_enorme(monkeypatch):
    """Um atributo de 15 MiB (um corpo de resposta posto num span) sai do SDK com o tamanho do teto de
    otel.env: o pedido OTLP continua pequeno, e o Collector não o recusa levando outros spans junto."""
    from bookstore import config
    teto = int(config.variaveis_do_otel_env()["OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT"])
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", str(teto))
    exportador = InMemorySpanExporter()
    provedor = TracerProvider()  # os limites vêm do ambiente, como nos serviços
    provedor.add_span_processor(SimpleSpanProcessor(exportador))
    with provedor.get_tracer("teste").start_as_current_span("saga.cobrar") as span:
        span.set_attribute("bookstore.resposta", "x" * (15 * 1024 * 1024))
    (exportado,) = exportador.get_finished_spans()
    assert 0 < teto <= 8192 and len(exportado.attributes["bookstore.resposta"]) == teto
