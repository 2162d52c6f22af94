"""Serviço livros com o cliente de teste do Flask e um PostgreSQL real."""
import threading
import uuid
from decimal import Decimal

import pytest

from bookstore import db
from livros import create_app
from tests.apoio import contar, criar_app_de_teste, esperar


@pytest.fixture
def app(postgres):
    app = criar_app_de_teste(postgres, create_app, "teste_livros", CATALOGO_INICIAL=False)
    yield app
    db.fechar(app)


@pytest.fixture
def client(app):
    return app.test_client()


def criar_livro(client, titulo="Dom Casmurro", preco=39.9, estoque=5, autor="Machado de Assis"):
    resposta = client.post("/livros", json={"titulo": titulo, "autor": autor, "preco": preco, "estoque": estoque})
    assert resposta.status_code == 201, resposta.json
    return resposta.json


def total_de_linhas(app, tabela):
    return contar(app.config["DATABASE_URL"], f"SELECT count(*) FROM {tabela}")


# --- catálogo -------------------------------------------------------------

def test_cria_livro_com_location_e_dinheiro_exato(client):
    resposta = client.post("/livros", data='{"titulo": "Vidas Secas", "preco": 34.9, "estoque": 3}')
    assert resposta.status_code == 201
    assert resposta.headers["Location"] == f"/livros/{resposta.json['id']}"
    assert resposta.json == {"id": 1, "titulo": "Vidas Secas", "autor": None, "preco": Decimal("34.90"), "estoque": 3}
    assert b'"preco":34.90' in resposta.data  # duas casas, sem passar por float
    assert client.get(resposta.headers["Location"]).json["titulo"] == "Vidas Secas"


def test_lista_ordenada_por_id_com_limite_e_offset(client):
    for i in range(5):
        criar_livro(client, titulo=f"Livro {i}")
    assert [livro["titulo"] for livro in client.get("/livros").json] == [f"Livro {i}" for i in range(5)]
    pagina = client.get("/livros?limite=2&offset=1").json
    assert [livro["id"] for livro in pagina] == [2, 3]


@pytest.mark.parametrize("consulta", ["limite=0", "limite=201", "limite=abc", "offset=-1"])
def test_paginacao_invalida_422(client, consulta):
    resposta = client.get(f"/livros?{consulta}")
    assert resposta.status_code == 422
    assert resposta.json["campo"] in consulta


def test_livro_inexistente_404_json(client):
    resposta = client.get("/livros/999")
    assert resposta.status_code == 404
    assert resposta.json["erro"] == "livro não encontrado"


@pytest.mark.parametrize("corpo, campo", [
    ({"preco": 10, "estoque": 1}, "titulo"),
    ({"titulo": "", "preco": 10, "estoque": 1}, "titulo"),
    ({"titulo": 42, "preco": 10, "estoque": 1}, "titulo"),
    ({"titulo": "x" * 201, "preco": 10, "estoque": 1}, "titulo"),
    ({"titulo": "A", "preco": -1, "estoque": 1}, "preco"),
    ({"titulo": "A", "preco": "10", "estoque": 1}, "preco"),
    ({"titulo": "A", "preco": 10.001, "estoque": 1}, "preco"),
    ({"titulo": "A", "preco": 1e20, "estoque": 1}, "preco"),
    ({"titulo": "A", "estoque": 1}, "preco"),
    ({"titulo": "A", "preco": 10, "estoque": -1}, "estoque"),
    ({"titulo": "A", "preco": 10, "estoque": 1.5}, "estoque"),
    ({"titulo": "A", "preco": 10, "estoque": True}, "estoque"),
    ({"titulo": "A", "preco": 10, "estoque": 2**31}, "estoque"),
    ({"titulo": "A", "preco": 10, "estoque": 1, "autor": ["x"]}, "autor"),
])
def test_livro_invalido_422_nomeia_o_campo_e_nao_grava(client, app, corpo, campo):
    resposta = client.post("/livros", json=corpo)
    assert resposta.status_code == 422
    assert resposta.json["campo"] == campo
    assert campo in resposta.json["erro"]
    assert total_de_linhas(app, "livros") == 0


@pytest.mark.parametrize("corpo", ['{"titulo": ', "não é json", ""])
def test_corpo_que_nao_e_json_400(client, app, corpo):
    resposta = client.post("/livros", data=corpo, content_type="application/json")
    assert resposta.status_code == 400
    assert "JSON" in resposta.json["erro"]
    assert total_de_linhas(app, "livros") == 0


def test_corpo_json_que_nao_e_objeto_422(client):
    assert client.post("/livros", json=[1, 2]).status_code == 422


def test_metodo_nao_permitido_e_rota_inexistente_em_json(client):
    assert client.delete("/livros").status_code == 405
    assert client.delete("/livros").json["erro"]
    assert client.get("/nada").json == {"erro": "recurso não encontrado"}


# --- reservas -------------------------------------------------------------

def reservar(client, itens, **extra):
    return client.post("/reservas", json={"itens": itens, **extra})


def test_reserva_retira_do_estoque_vendavel_e_calcula_total(client):
    a = criar_livro(client, preco=0.10, estoque=10)
    b = criar_livro(client, titulo="B", preco=33.33, estoque=2)
    resposta = reservar(client, [{"livro_id": a["id"], "quantidade": 3}, {"livro_id": b["id"], "quantidade": 1}],
                        ordem_id=7)
    assert resposta.status_code == 201
    reserva = resposta.json
    assert reserva["status"] == "ativa" and reserva["ordem_id"] == 7
    assert Decimal(str(reserva["total"])) == Decimal("33.63")
    assert resposta.headers["Location"] == f"/reservas/{reserva['id']}"
    assert client.get(f"/livros/{a['id']}").json["estoque"] == 7
    assert client.get(f"/livros/{b['id']}").json["estoque"] == 1
    assert client.get(f"/reservas/{reserva['id']}").json == reserva


def test_reserva_sem_estoque_409_tudo_ou_nada(client, app):
    a = criar_livro(client, estoque=5)
    b = criar_livro(client, titulo="B", estoque=1)
    resposta = reservar(client, [{"livro_id": a["id"], "quantidade": 2}, {"livro_id": b["id"], "quantidade": 2}])
    assert resposta.status_code == 409
    assert resposta.json["livro_id"] == b["id"] and resposta.json["disponivel"] == 1
    assert client.get(f"/livros/{a['id']}").json["estoque"] == 5  # nada reservado
    assert total_de_linhas(app, "reservas") == 0


def test_reserva_de_livro_inexistente_404_nada_reservado(client, app):
    a = criar_livro(client)
    resposta = reservar(client, [{"livro_id": a["id"], "quantidade": 1}, {"livro_id": 99, "quantidade": 1}])
    assert resposta.status_code == 404
    assert resposta.json["livro_id"] == 99
    assert total_de_linhas(app, "reservas") == 0


@pytest.mark.parametrize("corpo, campo", [
    ({}, "itens"),
    ({"itens": []}, "itens"),
    ({"itens": "1"}, "itens"),
    ({"itens": [1]}, "itens[0]"),
    ({"itens": [{"livro_id": 1}]}, "itens[0].quantidade"),
    ({"itens": [{"livro_id": 1, "quantidade": 0}]}, "itens[0].quantidade"),
    ({"itens": [{"livro_id": "1", "quantidade": 1}]}, "itens[0].livro_id"),
    ({"itens": [{"livro_id": 1, "quantidade": 1}, {"livro_id": 1, "quantidade": 1}]}, "itens[1].livro_id"),
    ({"itens": [{"livro_id": 1, "quantidade": 10**12}]}, "itens[0].quantidade"),
    ({"itens": [{"livro_id": 1, "quantidade": 1}], "ordem_id": "x"}, "ordem_id"),
])
def test_reserva_invalida_422(client, app, corpo, campo):
    criar_livro(client)
    resposta = client.post("/reservas", json=corpo)
    assert resposta.status_code == 422
    assert resposta.json["campo"] == campo
    assert total_de_linhas(app, "reservas") == 0


@pytest.mark.parametrize("acao, status, estoque_final, oposta", [
    ("confirmacao", "confirmada", 1, "cancelamento"),  # a venda baixa o estoque físico
    ("cancelamento", "cancelada", 3, "confirmacao"),   # o estoque volta, uma vez só
])
def test_confirmar_e_cancelar_sao_idempotentes_e_um_exclui_o_outro(client, acao, status, estoque_final, oposta):
    livro = criar_livro(client, estoque=3)
    reserva = reservar(client, [{"livro_id": livro["id"], "quantidade": 2}]).json
    for _ in range(3):
        resposta = client.post(f"/reservas/{reserva['id']}/{acao}")
        assert resposta.status_code == 200 and resposta.json["status"] == status
    assert client.get(f"/livros/{livro['id']}").json["estoque"] == estoque_final
    assert client.post(f"/reservas/{reserva['id']}/{oposta}").status_code == 409


def test_reserva_expirada_volta_a_venda_sem_varredura_e_confirmar_e_410(postgres):
    app = criar_app_de_teste(postgres, create_app, "teste_livros", CATALOGO_INICIAL=False, RESERVA_TTL_SEGUNDOS=1)
    try:
        client = app.test_client()
        livro = criar_livro(client, estoque=2)
        reserva = reservar(client, [{"livro_id": livro["id"], "quantidade": 2}]).json
        assert client.get(f"/livros/{livro['id']}").json["estoque"] == 0
        esperar(lambda: client.get(f"/reservas/{reserva['id']}").json["status"] == "expirada", limite=5,
                descricao="a reserva de 1 s expirar")
        assert client.get(f"/livros/{livro['id']}").json["estoque"] == 2
        resposta = client.post(f"/reservas/{reserva['id']}/confirmacao")
        assert resposta.status_code == 410 and "expirada" in resposta.json["erro"]
        # cancelar uma expirada: 200, e o estoque não volta duas vezes
        assert client.post(f"/reservas/{reserva['id']}/cancelamento").status_code == 200
        assert client.get(f"/livros/{livro['id']}").json["estoque"] == 2
    finally:
        db.fechar(app)


@pytest.mark.parametrize("caminho", ["/reservas/{id}", "/reservas/{id}/confirmacao", "/reservas/{id}/cancelamento"])
def test_reserva_inexistente_404(client, caminho):
    url = caminho.format(id=uuid.uuid4())
    resposta = client.get(url) if url.count("/") == 2 else client.post(url)
    assert resposta.status_code == 404
    assert resposta.json["erro"] == "reserva não encontrada"


def test_id_de_reserva_que_nao_e_uuid_404(client):
    assert client.get("/reservas/abc").status_code == 404


def test_catalogo_inicial_carregado_uma_vez_pelo_init_db(postgres):
    apps = [criar_app_de_teste(postgres, create_app, "teste_livros_catalogo", CATALOGO_INICIAL=False)]
    try:
        for _ in range(2):  # duas réplicas subindo: o segundo init-db não duplica nada
            app = create_app({"DATABASE_URL": apps[0].config["DATABASE_URL"], "CATALOGO_INICIAL": True})
            resultado = app.test_cli_runner().invoke(args=["init-db"])
            assert resultado.exit_code == 0 and "banco de livros pronto" in resultado.output, resultado.output
            apps.append(app)
        titulos = [livro["titulo"] for livro in apps[2].test_client().get("/livros").json]
        assert "Dom Casmurro" in titulos and len(titulos) == len(set(titulos)) == 10
    finally:
        for app in apps:
            db.fechar(app)


def test_reservas_da_ordem(client):
    livro = criar_livro(client)
    reserva = reservar(client, [{"livro_id": livro["id"], "quantidade": 1}], ordem_id=42).json
    reservar(client, [{"livro_id": livro["id"], "quantidade": 1}], ordem_id=43)
    assert [r["id"] for r in client.get("/reservas?ordem_id=42").json] == [reserva["id"]]
    assert client.get("/reservas?ordem_id=44").json == []
    assert client.get("/reservas").status_code == 422


def test_create_app_nao_toca_no_banco_nem_inicia_threads():
    """A fábrica só monta a aplicação (como a do flaskr): com um banco que não existe, ela
    volta na hora; o banco é do `init-db`, as threads são do worker (post_worker_init)."""
    import ordens
    threads_antes = threading.active_count()
    for fabrica in (create_app, ordens.create_app):
        app = fabrica({"DATABASE_URL": "postgresql://ninguem@127.0.0.1:1/nada", "DB_ESPERA_SEGUNDOS": 30})
        assert app.extensions[db.EXTENSAO].closed  # o pool abre na primeira conexão pedida
    assert threading.active_count() == threads_antes
