"""Serviço pagamentos com o cliente de teste do Flask e um PostgreSQL real."""
from decimal import Decimal

import pytest

from bookstore import db
from bookstore.cartao import luhn_valido
from pagamentos import create_app
from tests.apoio import contar, criar_app_de_teste

APROVADO = "4111111111111111"
RECUSADO = "4000000000000002"


@pytest.fixture
def app(postgres):
    app = criar_app_de_teste(postgres, create_app, "teste_pagamentos")
    yield app
    db.fechar(app)


@pytest.fixture
def client(app):
    return app.test_client()


def pagar(client, ordem_id=1, valor=39.9, cartao=APROVADO):
    return client.post("/pagamentos", json={"ordem_id": ordem_id, "valor": valor, "cartao": cartao})


def linhas(app):
    return contar(app.config["DATABASE_URL"], "SELECT count(*) FROM pagamentos")


def test_cartoes_de_teste_passam_no_luhn():
    assert luhn_valido(APROVADO) and luhn_valido(RECUSADO)
    assert not luhn_valido("4111111111111112")


def test_pagamento_aprovado_guarda_so_o_final_do_cartao(client, app):
    resposta = pagar(client, valor=39.9)
    assert resposta.status_code == 201
    assert resposta.json == {"id": 1, "ordem_id": 1, "valor": Decimal("39.90"), "status": "aprovado",
                             "motivo": None, "cartao_final": "1111"}
    assert resposta.headers["Location"] == "/pagamentos/1"
    guardado = contar(app.config["DATABASE_URL"], "SELECT row_to_json(p)::text FROM pagamentos p")
    assert APROVADO not in guardado and "1111" in guardado


def test_cartao_terminado_em_0002_e_recusado_com_201(client):
    resposta = pagar(client, cartao=RECUSADO)
    assert resposta.status_code == 201
    assert (resposta.json["status"], resposta.json["motivo"]) == ("recusado", "cartao_recusado")


def test_acima_do_limite_e_recusado(client):
    assert pagar(client, valor=5000).json["status"] == "aprovado"
    resposta = pagar(client, ordem_id=2, valor=5000.01)
    assert (resposta.json["status"], resposta.json["motivo"]) == ("recusado", "limite_excedido")


def test_limite_configuravel(postgres):
    app = criar_app_de_teste(postgres, create_app, "teste_pagamentos", PAGAMENTO_LIMITE=Decimal("10.00"))
    try:
        assert pagar(app.test_client(), valor=10.01).json["motivo"] == "limite_excedido"
    finally:
        db.fechar(app)


def test_idempotente_por_ordem(client, app):
    primeiro = pagar(client, valor=39.9).json
    repetido = pagar(client, valor=39.90)
    assert repetido.status_code == 200 and repetido.json == primeiro
    outro_valor = pagar(client, valor=40)
    assert outro_valor.status_code == 409 and outro_valor.json["pagamento_id"] == primeiro["id"]
    assert linhas(app) == 1


@pytest.mark.parametrize("corpo, campo", [
    ({"valor": 10, "cartao": APROVADO}, "ordem_id"),
    ({"ordem_id": 0, "valor": 10, "cartao": APROVADO}, "ordem_id"),
    ({"ordem_id": 1, "cartao": APROVADO}, "valor"),
    ({"ordem_id": 1, "valor": 0, "cartao": APROVADO}, "valor"),
    ({"ordem_id": 1, "valor": -5, "cartao": APROVADO}, "valor"),
    ({"ordem_id": 1, "valor": "10", "cartao": APROVADO}, "valor"),
    ({"ordem_id": 1, "valor": 1e30, "cartao": APROVADO}, "valor"),
    ({"ordem_id": 1, "valor": 10}, "cartao"),
    ({"ordem_id": 1, "valor": 10, "cartao": 4111111111111111}, "cartao"),
    ({"ordem_id": 1, "valor": 10, "cartao": "4111 1111 1111 1111"}, "cartao"),
    ({"ordem_id": 1, "valor": 10, "cartao": "411111111111"}, "cartao"),
    ({"ordem_id": 1, "valor": 10, "cartao": "4" * 20}, "cartao"),
    ({"ordem_id": 1, "valor": 10, "cartao": "4111111111111112"}, "cartao"),
])
def test_entrada_invalida_422_sem_gravar(client, app, corpo, campo):
    resposta = client.post("/pagamentos", json=corpo)
    assert resposta.status_code == 422
    assert resposta.json["campo"] == campo
    assert linhas(app) == 0


def test_corpo_nao_json_400(client, app):
    assert client.post("/pagamentos", data="{", content_type="application/json").status_code == 400
    assert linhas(app) == 0


def test_consulta_e_lista_por_ordem(client):
    pagar(client, ordem_id=5)
    pagar(client, ordem_id=6)
    assert client.get("/pagamentos/1").json["ordem_id"] == 5
    assert client.get("/pagamentos/99").status_code == 404
    assert [p["id"] for p in client.get("/pagamentos?ordem_id=6").json] == [2]
    assert client.get("/pagamentos?ordem_id=7").json == []
    assert client.get("/pagamentos?ordem_id=abc").status_code == 422
    assert [p["id"] for p in client.get("/pagamentos").json] == [2, 1]


@pytest.mark.parametrize("chave", ["x" * 201, "   "])
def test_chave_da_consulta_tem_a_regra_do_cabecalho(client, chave):
    """?chave= procura uma Idempotency-Key: com mais de 200 caracteres (ou só espaços) nenhuma existe, e a
    resposta diz por quê em vez de uma lista vazia — como o cabeçalho e o que o /openapi.json promete."""
    resposta = client.get(f"/pagamentos?ordem_id=5&chave={chave}")
    assert resposta.status_code == 422 and resposta.json["campo"] == "chave", resposta.json
    assert client.get("/pagamentos?ordem_id=5&chave=" + "x" * 200).status_code == 200


def test_estorno_idempotente_e_recusado_nao_estorna(client):
    aprovado = pagar(client, ordem_id=1).json
    for _ in range(2):
        resposta = client.post(f"/pagamentos/{aprovado['id']}/estorno")
        assert resposta.status_code == 200 and resposta.json["status"] == "estornado"
    recusado = pagar(client, ordem_id=2, cartao=RECUSADO).json
    resposta = client.post(f"/pagamentos/{recusado['id']}/estorno")
    assert resposta.status_code == 409 and client.get(f"/pagamentos/{recusado['id']}").json["status"] == "recusado"
    assert client.post("/pagamentos/99/estorno").status_code == 404


# --- injeção de falhas (comum aos três serviços; testada aqui) --------------

def test_falha_injetada_vale_para_negocio_e_nao_para_saude_nem_admin(client, app):
    assert client.get("/admin/falhas").json == {"latencia_ms": 0, "taxa_erro": 0}
    assert client.put("/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 1}).status_code == 200
    resposta = pagar(client)
    assert resposta.status_code == 500 and resposta.json == {"erro": "falha injetada"}
    assert linhas(app) == 0
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code == 200
    client.put("/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 0})
    assert pagar(client).status_code == 201


def test_latencia_injetada(client):
    import time
    client.put("/admin/falhas", json={"latencia_ms": 300, "taxa_erro": 0})
    inicio = time.monotonic()
    assert client.get("/pagamentos").status_code == 200
    assert time.monotonic() - inicio >= 0.3
    assert client.get("/admin/falhas").json["latencia_ms"] == 300


@pytest.mark.parametrize("corpo, campo", [
    ({"latencia_ms": -1, "taxa_erro": 0}, "latencia_ms"),
    ({"latencia_ms": 0, "taxa_erro": 1.5}, "taxa_erro"),
    ({"latencia_ms": 0, "taxa_erro": "0.5"}, "taxa_erro"),
    ({"latencia_ms": 0}, "taxa_erro"),
])
def test_falhas_invalidas_422(client, corpo, campo):
    resposta = client.put("/admin/falhas", json=corpo)
    assert resposta.status_code == 422 and resposta.json["campo"] == campo


def test_falhas_padrao_do_ambiente_e_admin_desligado(postgres):
    app = criar_app_de_teste(postgres, create_app, "teste_pagamentos", ADMIN_HABILITADO=False,
                             FALHA_TAXA_ERRO=Decimal("1"))
    try:
        client = app.test_client()
        assert client.get("/admin/falhas").status_code == 404
        assert pagar(client).status_code == 500
    finally:
        db.fechar(app)


def test_ready_503_e_negocio_503_quando_o_banco_some(postgres):
    import psycopg
    url = postgres.criar_banco("teste_pagamentos_efemero", recriar=True)
    app = create_app({"DATABASE_URL": url, "DB_POOL_ESPERA_SEGUNDOS": 1})
    try:
        client = app.test_client()
        assert client.get("/ready").status_code == 200
        with psycopg.connect(postgres.url(), autocommit=True) as conexao:
            conexao.execute('DROP DATABASE "teste_pagamentos_efemero" WITH (FORCE)')
        assert client.get("/health").status_code == 200
        resposta = client.get("/ready")
        assert resposta.status_code == 503 and resposta.json["erro"]
        resposta = client.get("/pagamentos/1")
        assert resposta.status_code == 503 and resposta.json == {"erro": "banco de dados indisponível"}
    finally:
        db.fechar(app)


# --- falha por requisição, no baggage W3C (bookstore/falhas.py) -------------------------------
def com_baggage(valor: str) -> dict:
    return {"baggage": f"bookstore.falha={valor}"}


@pytest.mark.parametrize("baggage, codigo", [
    ("pagamentos:erro", 500),
    ("livros:erro", 201),  # a falha é de outro serviço: passa adiante, não se aplica aqui
    ("livros:latencia_ms=10|pagamentos:erro", 500),
    ("pagamentos:qualquer-coisa", 201),  # o que não se entende é ignorado
])
def test_falha_no_baggage_vale_so_para_o_servico_nomeado(client, app, baggage, codigo):
    resposta = client.post("/pagamentos", json={"ordem_id": 1, "valor": 10, "cartao": APROVADO},
                           headers=com_baggage(baggage))
    assert resposta.status_code == codigo
    if codigo == 500:
        assert resposta.json == {"erro": "falha injetada"} and linhas(app) == 0
    # A próxima requisição, sem baggage, não sofre nada: a falha era só daquela.
    assert pagar(client, ordem_id=2).status_code == 201


def test_latencia_no_baggage_atrasa_so_aquela_requisicao(client):
    import time
    inicio = time.monotonic()
    assert client.get("/pagamentos", headers=com_baggage("pagamentos:latencia_ms=300")).status_code == 200
    assert time.monotonic() - inicio >= 0.3


def test_sem_admin_o_baggage_nao_injeta_nada(postgres):
    app = criar_app_de_teste(postgres, create_app, "teste_pagamentos", ADMIN_HABILITADO=False)
    try:
        resposta = app.test_client().post("/pagamentos", json={"ordem_id": 1, "valor": 10, "cartao": APROVADO},
                                          headers=com_baggage("pagamentos:erro"))
        assert resposta.status_code == 201
    finally:
        db.fechar(app)
