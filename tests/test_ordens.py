"""Serviço ordens com o cliente de teste do Flask; livros e pagamentos são
processos gunicorn reais (fixture `vizinhos`), chamados por HTTP de verdade."""
from decimal import Decimal

import pytest

from bookstore import db
from ordens import create_app, recuperacao, regras
from tests.apoio import (CARTAO_RECUSADO, contar, criar_app_de_teste, criar_livro, esperar, estoque, esvaziar,
                         injetar_falha, pagamentos_da_ordem, reservas_da_ordem)

pytestmark = pytest.mark.e2e  # os vizinhos são processos gunicorn de verdade


@pytest.fixture
def app(postgres, vizinhos):
    for url in vizinhos.bancos.values():
        esvaziar(url)
    # Os ids de ordem nunca se repetem entre testes: uma cobrança atrasada de um teste anterior
    # (latência injetada) chega a pagamentos depois do esvaziamento, e com o mesmo ordem_id ela
    # seria, com razão, outra cobrança (409) para a ordem nova.
    app = criar_app_de_teste(
        postgres, create_app, "teste_ordens", reiniciar_ids=False,
        LIVROS_URL=vizinhos.url("livros"), PAGAMENTOS_URL=vizinhos.url("pagamentos"),
        PAGAMENTOS_TIMEOUT_SEGUNDOS=1.0, ORDENS_RECUPERACAO_AUTOMATICA=False,
    )
    yield app
    db.fechar(app)
    for servico in ("livros", "pagamentos"):
        injetar_falha(vizinhos, servico)


@pytest.fixture
def client(app):
    return app.test_client()


def comprar(client, itens, **extra):
    headers = extra.pop("headers", {})
    return client.post("/ordens", json={"itens": itens, **extra}, headers=headers)


def ordens_gravadas(app) -> int:
    return contar(app.config["DATABASE_URL"], "SELECT count(*) FROM ordens")


def historico(ordem) -> list[str]:
    return [passo["status"] for passo in ordem["historico"]]


def test_compra_feliz_com_dinheiro_exato(client, vizinhos):
    barato = criar_livro(vizinhos, preco="0.10", estoque=10)
    caro = criar_livro(vizinhos, preco="33.33", estoque=1)
    resposta = comprar(client, [{"livro_id": barato, "quantidade": 3}, {"livro_id": caro, "quantidade": 1}],
                       cliente="Ana")
    assert resposta.status_code == 201, resposta.json
    ordem = resposta.json
    assert ordem["status"] == "concluida" and ordem["motivo"] is None and ordem["cliente"] == "Ana"
    assert ordem["total"] == Decimal("33.63")
    assert historico(ordem) == ["criada", "estoque_reservado", "pagamento_aprovado", "concluida"]
    assert resposta.headers["Location"] == f"/ordens/{ordem['id']}"
    assert {i["livro_id"]: i["preco_unitario"] for i in ordem["itens"]} == {barato: Decimal("0.10"),
                                                                          caro: Decimal("33.33")}
    assert (estoque(vizinhos, barato), estoque(vizinhos, caro)) == (7, 0)
    [pagamento] = pagamentos_da_ordem(vizinhos, ordem["id"])
    assert (pagamento["valor"], pagamento["status"], pagamento["id"]) == (Decimal("33.63"), "aprovado",
                                                                         ordem["pagamento_id"])
    assert reservas_da_ordem(vizinhos, ordem["id"])[0]["status"] == "confirmada"
    assert client.get(f"/ordens/{ordem['id']}").json == ordem


def test_lista_mais_nova_primeiro_e_404(client, vizinhos):
    livro = criar_livro(vizinhos, estoque=5)
    ids = [comprar(client, [{"livro_id": livro, "quantidade": 1}]).json["id"] for _ in range(3)]
    assert [o["id"] for o in client.get("/ordens").json] == ids[::-1]
    assert [o["id"] for o in client.get("/ordens?limite=1&offset=1").json] == [ids[1]]
    resposta = client.get("/ordens/999")
    assert resposta.status_code == 404 and resposta.json["erro"] == "ordem não encontrada"


def test_sem_estoque_409(client, vizinhos):
    livro = criar_livro(vizinhos, estoque=1)
    resposta = comprar(client, [{"livro_id": livro, "quantidade": 2}])
    assert resposta.status_code == 409
    assert resposta.json["status"] == "estoque_indisponivel" and resposta.json["erro"]
    assert resposta.json["reserva_id"] is None and resposta.json["total"] is None
    assert estoque(vizinhos, livro) == 1 and pagamentos_da_ordem(vizinhos, resposta.json["id"]) == []


def test_tudo_ou_nada_entre_itens(client, vizinhos):
    a = criar_livro(vizinhos, estoque=5)
    b = criar_livro(vizinhos, estoque=1)
    resposta = comprar(client, [{"livro_id": a, "quantidade": 2}, {"livro_id": b, "quantidade": 2}])
    assert resposta.status_code == 409
    assert (estoque(vizinhos, a), estoque(vizinhos, b)) == (5, 1)


def test_livro_desconhecido_422_nada_gravado(client, app, vizinhos):
    livro = criar_livro(vizinhos)
    resposta = comprar(client, [{"livro_id": livro, "quantidade": 1}, {"livro_id": 9999, "quantidade": 1}])
    assert resposta.status_code == 422
    assert resposta.json["campo"] == "itens[1].livro_id" and resposta.json["livro_id"] == 9999
    assert ordens_gravadas(app) == 0 and estoque(vizinhos, livro) == 5


def test_cartao_recusado_402_estoque_devolvido(client, vizinhos):
    livro = criar_livro(vizinhos, estoque=2)
    resposta = comprar(client, [{"livro_id": livro, "quantidade": 2}], cartao=CARTAO_RECUSADO)
    assert resposta.status_code == 402
    ordem = resposta.json
    assert (ordem["status"], ordem["motivo"]) == ("pagamento_recusado", "cartao_recusado")
    assert historico(ordem) == ["criada", "estoque_reservado", "pagamento_recusado"]
    assert ordem["pagamento_id"] is not None
    assert estoque(vizinhos, livro) == 2
    assert reservas_da_ordem(vizinhos, ordem["id"])[0]["status"] == "cancelada"


def test_acima_do_limite_402(client, vizinhos):
    livro = criar_livro(vizinhos, preco="2600.00", estoque=2)
    resposta = comprar(client, [{"livro_id": livro, "quantidade": 2}])
    assert resposta.status_code == 402 and resposta.json["motivo"] == "limite_excedido"
    assert estoque(vizinhos, livro) == 2


@pytest.mark.parametrize("corpo, campo", [
    ({}, "itens"),
    ({"itens": [{"livro_id": 1, "quantidade": -1}]}, "itens[0].quantidade"),
    ({"itens": [{"livro_id": 1, "quantidade": 1}], "cartao": "4111111111111112"}, "cartao"),
    ({"itens": [{"livro_id": 1, "quantidade": 1}], "cartao": "123"}, "cartao"),
    ({"itens": [{"livro_id": 1, "quantidade": 1}], "cliente": 7}, "cliente"),
])
def test_entrada_invalida_422_nada_gravado(client, app, vizinhos, corpo, campo):
    livro = criar_livro(vizinhos)
    resposta = client.post("/ordens", json=corpo)
    assert resposta.status_code == 422 and resposta.json["campo"] == campo
    assert ordens_gravadas(app) == 0 and estoque(vizinhos, livro) == 5


def test_corpo_nao_json_400(client, app):
    resposta = client.post("/ordens", data="itens=1", content_type="application/x-www-form-urlencoded")
    assert resposta.status_code == 400 and ordens_gravadas(app) == 0


def test_idempotency_key_repete_a_primeira_resposta(client, app, vizinhos):
    livro = criar_livro(vizinhos, estoque=3)
    chave = {"Idempotency-Key": "compra-123"}
    primeira = comprar(client, [{"livro_id": livro, "quantidade": 1}], headers=chave)
    segunda = comprar(client, [{"livro_id": livro, "quantidade": 1}], headers=chave)
    assert (primeira.status_code, segunda.status_code) == (201, 201)
    assert segunda.json == primeira.json
    assert ordens_gravadas(app) == 1 and estoque(vizinhos, livro) == 2
    outra = comprar(client, [{"livro_id": livro, "quantidade": 2}], headers=chave)
    assert outra.status_code == 422 and outra.json["campo"] == "Idempotency-Key"
    assert estoque(vizinhos, livro) == 2


def test_idempotency_key_repete_tambem_a_recusa(client, vizinhos):
    livro = criar_livro(vizinhos, estoque=3)
    chave = {"Idempotency-Key": "recusa-1"}
    corpo = [{"livro_id": livro, "quantidade": 1}]
    primeira = comprar(client, corpo, cartao=CARTAO_RECUSADO, headers=chave)
    segunda = comprar(client, corpo, cartao=CARTAO_RECUSADO, headers=chave)
    assert (primeira.status_code, segunda.status_code) == (402, 402)
    assert segunda.json["id"] == primeira.json["id"]
    assert len(pagamentos_da_ordem(vizinhos, primeira.json["id"])) == 1


def test_pagamentos_falhando_503_falhou_estoque_devolvido(client, vizinhos):
    livro = criar_livro(vizinhos, estoque=2)
    injetar_falha(vizinhos, "pagamentos", taxa_erro=1)
    resposta = comprar(client, [{"livro_id": livro, "quantidade": 2}])
    assert resposta.status_code == 503
    ordem = resposta.json
    assert (ordem["status"], ordem["motivo"]) == ("falhou", "pagamentos_indisponivel")
    assert "pagamentos" in ordem["erro"]
    assert estoque(vizinhos, livro) == 2


def test_pagamentos_lento_504_e_a_cobranca_atrasada_e_estornada(client, vizinhos):
    """Timeout ao cobrar: a cobrança pode acontecer depois. A compensação repete
    a cobrança (idempotente por ordem) e estorna: nenhum dinheiro fica preso."""
    livro = criar_livro(vizinhos, estoque=2)
    injetar_falha(vizinhos, "pagamentos", latencia_ms=1500)
    resposta = comprar(client, [{"livro_id": livro, "quantidade": 1}])
    assert resposta.status_code == 504
    assert resposta.json["motivo"] == "pagamentos_timeout"
    assert estoque(vizinhos, livro) == 2  # a reserva já foi cancelada
    ordem_id = resposta.json["id"]
    injetar_falha(vizinhos, "pagamentos")
    # A cobrança atrasada termina do lado de pagamentos: aprovada.
    esperar(lambda: [p["status"] for p in pagamentos_da_ordem(vizinhos, ordem_id)] == ["aprovado"], limite=5,
            descricao="a cobrança atrasada ser gravada por pagamentos")
    # O desfazer também esbarrou na lentidão e ficou pendente; a recuperação estorna.
    assert recuperacao.executar_passada(client.application) == 1
    assert [p["status"] for p in pagamentos_da_ordem(vizinhos, ordem_id)] == ["estornado"]
    assert client.get(f"/ordens/{ordem_id}").json["status"] == "falhou"


def test_livros_falhando_na_validacao_503_nada_gravado(client, app, vizinhos):
    livro = criar_livro(vizinhos)
    injetar_falha(vizinhos, "livros", taxa_erro=1)
    resposta = comprar(client, [{"livro_id": livro, "quantidade": 1}])
    assert resposta.status_code == 503 and resposta.json["motivo"] == "livros_indisponivel"
    assert ordens_gravadas(app) == 0


def test_recuperacao_termina_desfazer_interrompido(client, app, vizinhos):
    """Cartão recusado, mas livros cai antes do cancelamento da reserva: a ordem
    fica no passo, e a passada de recuperação termina de desfazer depois."""
    livro = criar_livro(vizinhos, estoque=2)
    saga = app.extensions["ordens.saga"]
    cancelar_original = saga.livros.cancelar

    def livros_caiu(reserva_id):
        from ordens.clientes import FalhaDependencia
        raise FalhaDependencia("livros", "indisponivel", "simulado: livros caiu")

    saga.livros.cancelar = livros_caiu
    try:
        resposta = comprar(client, [{"livro_id": livro, "quantidade": 2}], cartao=CARTAO_RECUSADO)
    finally:
        saga.livros.cancelar = cancelar_original
    assert resposta.status_code == 402
    assert resposta.json["status"] == "estoque_reservado"  # ainda não desfeita
    assert estoque(vizinhos, livro) == 0
    assert recuperacao.executar_passada(app) == 1
    ordem = client.get(f"/ordens/{resposta.json['id']}").json
    assert (ordem["status"], ordem["motivo"]) == ("pagamento_recusado", "cartao_recusado")
    assert estoque(vizinhos, livro) == 2
    assert recuperacao.executar_passada(app) == 0  # nada mais pendente


def test_recuperacao_desfaz_ordem_abandonada(client, app, vizinhos):
    """O estado que um worker morto deixa entre reservar e cobrar: reserva ativa
    em livros, cobrança incerta, ordem parada. Passado o prazo de abandono, a
    recuperação cancela a reserva e, sem cobrança encontrada, encerra como falhou."""
    import psycopg
    import requests
    livro = criar_livro(vizinhos, estoque=2)
    with psycopg.connect(app.config["DATABASE_URL"], autocommit=True) as conexao:
        ordem_id = conexao.execute(
            "INSERT INTO ordens (status, cobranca_incerta_desde, atualizada_em)"
            " VALUES ('estoque_reservado', now() - interval '1 hour', now() - interval '1 hour')"
            " RETURNING id").fetchone()[0]
        conexao.execute("INSERT INTO ordem_itens (ordem_id, livro_id, quantidade) VALUES (%s, %s, 1)",
                        (ordem_id, livro))
        reserva = requests.post(vizinhos.url("livros") + "/reservas", timeout=5, json={
            "itens": [{"livro_id": livro, "quantidade": 1}], "ordem_id": ordem_id}).json()
        conexao.execute("UPDATE ordens SET reserva_id = %s WHERE id = %s", (reserva["id"], ordem_id))
    assert estoque(vizinhos, livro) == 1
    assert recuperacao.executar_passada(app) == 1
    ordem = client.get(f"/ordens/{ordem_id}").json
    assert (ordem["status"], ordem["motivo"]) == ("falhou", "interrompida")
    assert estoque(vizinhos, livro) == 2


def test_admin_recuperacao_roda_uma_passada(client):
    assert client.post("/admin/recuperacao").json == {"ordens_resolvidas": 0}


def test_ordem_terminada_e_imutavel_mesmo_que_a_recuperacao_a_tenha_listado(client, app, vizinhos):
    """A corrida: a passada lista a ordem enquanto a saga compensa, a
    saga termina, e a passada chega depois. Ela não pode reescrever a história."""
    livro = criar_livro(vizinhos, estoque=2)
    resposta = comprar(client, [{"livro_id": livro, "quantidade": 1}], cartao=CARTAO_RECUSADO)
    assert resposta.status_code == 402
    antes = client.get(f"/ordens/{resposta.json['id']}").json
    saga = app.extensions["ordens.saga"]
    with app.app_context():
        # O que a passada faria com a ordem da lista, com abandono zero (a pior hipótese).
        assert recuperacao.recuperar(saga, antes["id"], abandono_segundos=0) is True
        # E uma compensação atrasada da própria saga, decidindo outro desfecho.
        assert saga.compensar(antes["id"], regras.dependencia_falhou("livros", "timeout")) == (antes["id"], 402)
    depois = client.get(f"/ordens/{antes['id']}").json
    assert depois == antes
    assert (depois["status"], depois["motivo"]) == ("pagamento_recusado", "cartao_recusado")
    with psycopg_conectar(app) as conexao:
        assert conexao.execute("SELECT desfazer_para FROM ordens WHERE id = %s",
                               (antes["id"],)).fetchone()[0] is None


def test_cobranca_incerta_que_era_recusa_termina_como_pagamento_recusado(client, app, vizinhos):
    """Timeout ao cobrar um cartão que pagamentos recusa: a compensação repete a
    cobrança, descobre a recusa, e a ordem conta isso (402), não um timeout. Se quem termina
    é a recuperação, a ordem conta a recusa e guarda o código da resposta que o cliente já
    recebeu (regras.desfecho_do_desfazer): a repetição com a mesma chave devolve a primeira."""
    livro = criar_livro(vizinhos, estoque=2)
    injetar_falha(vizinhos, "pagamentos", latencia_ms=1500)
    resposta = comprar(client, [{"livro_id": livro, "quantidade": 1}], cartao=CARTAO_RECUSADO)
    injetar_falha(vizinhos, "pagamentos")
    ordem = resposta.json
    if ordem["status"] == "pagamento_recusado":
        assert resposta.status_code == 402 and ordem["motivo"] == "cartao_recusado"
    else:  # a repetição da cobrança também esbarrou na latência: a recuperação decide
        assert ordem["status"] == "estoque_reservado"
        esperar(lambda: pagamentos_da_ordem(vizinhos, ordem["id"]), limite=5,
                descricao="a cobrança atrasada ser gravada por pagamentos")
        assert recuperacao.executar_passada(client.application) == 1
        ordem = client.get(f"/ordens/{ordem['id']}").json
        assert (ordem["status"], ordem["motivo"]) == ("pagamento_recusado", "cartao_recusado")
    assert [p["status"] for p in pagamentos_da_ordem(vizinhos, ordem["id"])] == ["recusado"]
    assert estoque(vizinhos, livro) == 2
    with psycopg_conectar(app) as conexao:
        guardado = conexao.execute("SELECT codigo_http FROM ordens WHERE id = %s", (ordem["id"],)).fetchone()[0]
    assert guardado == resposta.status_code, (guardado, resposta.status_code)


def psycopg_conectar(app):
    import psycopg
    return psycopg.connect(app.config["DATABASE_URL"])
