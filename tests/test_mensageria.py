"""A compra por mensagens sem processos (a parte rápida): o que o lançador diz sem o RabbitMQ, os
nomes das filas e destinos das convenções, e ORDENS_SAGA com um valor que não existe."""
import pytest

from bookstore import config
from bookstore.mensageria import filas
from modo_local import rabbitmq


def test_sem_rabbitmq_instalado_uma_linha_diz_como_instalar(monkeypatch):
    monkeypatch.setattr(rabbitmq, "CAMINHOS", ("/nao/existe/rabbitmq-server",))
    monkeypatch.setenv("PATH", "/nao/existe")
    with pytest.raises(rabbitmq.RabbitMQAusente, match="apt-get install rabbitmq-server.*brew install rabbitmq"):
        rabbitmq.achar_servidor()
    # É uma ConfiguracaoInvalida: o `make local` a imprime numa linha, sem traceback (modo_local/__main__.py).
    assert issubclass(rabbitmq.RabbitMQAusente, config.ConfiguracaoInvalida)


def test_destinos_seguem_as_convencoes_de_mensageria_do_rabbitmq():
    assert filas.fila_de("livros.reservar") == "livros.comandos"
    assert filas.fila_de("ordens.pagamento") == "ordens.eventos"
    assert filas.destino_do_envio("pagamentos.cobrar") == "bookstore:pagamentos.cobrar"
    assert filas.destino_do_processamento("pagamentos.cobrar", "pagamentos.comandos") == (
        "bookstore:pagamentos.cobrar:pagamentos.comandos")
    assert filas.das_mortas("pagamentos.comandos") == "pagamentos.comandos.dlq"


def test_ordens_saga_desconhecida_para_no_arranque(monkeypatch):
    import ordens
    monkeypatch.setenv("ORDENS_SAGA", "kafka")
    with pytest.raises(config.ConfiguracaoInvalida, match="ORDENS_SAGA='kafka': use http ou mensagens"):
        ordens.create_app({"TESTING": True})


def test_make_traces_desenha_o_link_de_cada_process_e_diz_onde_ele_esta():
    from telemetria_local import traces

    def span(nome, kind, trace_id, span_id, parent_id="", links=()):
        return {"servico": "livros", "recurso": {}, "escopo": "", "nome": nome, "kind": kind, "trace_id": trace_id,
                "span_id": span_id, "parent_id": parent_id, "atributos": {}, "inicio_ns": 1, "fim_ns": 2,
                "eventos": [], "status": 0, "status_mensagem": "", "links": list(links)}
    um, outro = "1" * 32, "2" * 32
    envio = span("send bookstore:livros.reservar", 4, um, "a" * 16)
    filho = span("process bookstore:livros.reservar:livros.comandos", 5, um, "b" * 16, "a" * 16, [(um, "a" * 16)])
    assert "↪ link: neste trace, span aaaaaaaa…" in traces.arvore([envio, filho])
    so_link = span("process bookstore:livros.reservar:livros.comandos", 5, outro, "c" * 16, links=[(um, "a" * 16)])
    assert f"↪ link: trace {um}, span aaaaaaaa…" in traces.arvore([so_link])
