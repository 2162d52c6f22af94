"""A compra por mensagens sem processos (a parte rápida): o que o lançador diz sem o RabbitMQ, os
nomes das filas e destinos das convenções, e ORDENS_SAGA com um valor que não existe."""
import pytest

from bookstore import config, mensagens
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
    assert mensagens.fila_de(mensagens.MENSAGENS["livros.reservar"].quem_recebe) == "livros.comandos"
    assert mensagens.fila_de(mensagens.MENSAGENS["ordens.pagamento"].quem_recebe) == "ordens.eventos"
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


def test_a_limpeza_apaga_so_o_que_passou_do_prazo_e_nunca_o_que_falta_publicar(postgres, monkeypatch):
    """Com um PostgreSQL real: a publicada há 2 h sai, a pendente há 2 h fica (é uma mensagem por
    mandar), as de 10 min ficam (a janela de uma entrega repetida); em lotes, até acabar."""
    import uuid

    import livros
    from bookstore import db
    from bookstore.mensageria import limpeza
    from tests.apoio import criar_app_de_teste

    app = criar_app_de_teste(postgres, livros.create_app, "teste_limpeza", CATALOGO_INICIAL=False)
    monkeypatch.setattr(limpeza, "LOTE", 2)  # 5 velhas: três lotes
    ids = {nome: uuid.uuid4() for nome in ("pendente", "recente")}
    velhas = [uuid.uuid4() for _ in range(5)]
    try:
        with app.app_context(), db.transacao() as cursor:
            for mensagem_id, publicada in [*((v, "2 hours") for v in velhas), (ids["recente"], "10 minutes")]:
                cursor.execute("INSERT INTO mensagens_a_enviar (id, destino, corpo, criada_em, publicada_em) VALUES"
                               " (%s, 'x.y', '{}', now() - %s::interval, now() - %s::interval)",
                               (mensagem_id, publicada, publicada))
                cursor.execute("INSERT INTO mensagens_recebidas (id, destino, recebida_em) VALUES"
                               " (%s, 'x.y', now() - %s::interval)", (mensagem_id, publicada))
            cursor.execute("INSERT INTO mensagens_a_enviar (id, destino, corpo, criada_em) VALUES"
                           " (%s, 'x.y', '{}', now() - interval '2 hours')", (ids["pendente"],))
        with app.app_context(), db.transacao() as cursor:
            apagadas = limpeza.limpar(cursor, 3600)
            restam_na_outbox = {linha["id"] for linha in cursor.execute("SELECT id FROM mensagens_a_enviar")}
            restam_na_inbox = {linha["id"] for linha in cursor.execute("SELECT id FROM mensagens_recebidas")}
        assert apagadas == {"mensagens_a_enviar": 5, "mensagens_recebidas": 5}
        assert restam_na_outbox == {ids["pendente"], ids["recente"]}
        assert restam_na_inbox == {ids["recente"]}
    finally:
        db.fechar(app)
