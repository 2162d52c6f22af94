"""Ponta a ponta: os três serviços como processos gunicorn reais, vários
workers cada, portas livres, PostgreSQL real, HTTP real entre eles."""
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests

from bookstore import topologia
from modo_local.servicos import Laboratorio
from tests.apoio import (CARTAO_RECUSADO, CARTOES_DA_VARREDURA, cartoes_legiveis_em_disco, criar_livro, esperar,
                         estoque, injetar_falha, json_de, pagamentos_da_ordem, portas_livres, reservas_da_ordem)

pytestmark = pytest.mark.e2e

WORKERS = 4


@pytest.fixture(scope="module")
def lab(postgres, tmp_path_factory):
    laboratorio = Laboratorio(
        postgres, portas=portas_livres(), prefixo_bancos="e2e_",
        pasta_logs=tmp_path_factory.mktemp("logs-e2e"),
        ambiente={"WEB_CONCURRENCY": str(WORKERS), "ADMIN_HABILITADO": "true", "CATALOGO_INICIAL": "false",
                  "OTEL_SDK_DISABLED": "true", "PAGAMENTOS_TIMEOUT_SEGUNDOS": "4",
                  "ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS": "1"},
        ambiente_por_servico={"pagamentos": {"WEB_CONCURRENCY": "2"}},
    )
    with laboratorio.iniciar(recriar_bancos=True):
        yield laboratorio


@pytest.fixture(autouse=True)
def sem_falhas(lab):
    yield
    for servico in topologia.SERVICOS:
        if servico in lab.processos:
            injetar_falha(lab, servico)


def comprar(lab, itens, **extra):
    headers = extra.pop("headers", {})
    resposta = requests.post(lab.url("ordens") + "/ordens", json={"itens": itens, **extra},
                             headers=headers, timeout=30)
    return resposta.status_code, json_de(resposta)


def test_compra_feliz_atravessa_os_tres_processos(lab):
    barato = criar_livro(lab, preco="0.10", estoque=10)
    caro = criar_livro(lab, preco="33.33", estoque=3)
    status, ordem = comprar(lab, [{"livro_id": barato, "quantidade": 3}, {"livro_id": caro, "quantidade": 1}])
    assert status == 201 and ordem["status"] == "concluida"
    assert ordem["total"] == Decimal("33.63")
    assert (estoque(lab, barato), estoque(lab, caro)) == (7, 2)
    assert pagamentos_da_ordem(lab, ordem["id"])[0]["valor"] == Decimal("33.63")


def test_nenhum_cartao_inteiro_em_disco_na_saga_http(lab, postgres):
    """A saga HTTP leva o número na memória da requisição até pagamentos, que guarda só o final: nem os
    bancos (com o WAL) nem os logs o têm legível depois."""
    livro = criar_livro(lab, estoque=5)
    status = [comprar(lab, [{"livro_id": livro, "quantidade": 1}], cartao=numero)[0] for numero in CARTOES_DA_VARREDURA]
    assert status == [201, 201, 402]
    lidos, achados = cartoes_legiveis_em_disco(postgres, lab.pasta_logs)
    assert lidos > 100 and achados == [], achados


@pytest.mark.parametrize("cenario", ["sem_estoque", "tudo_ou_nada", "livro_desconhecido", "cartao_recusado",
                                     "acima_do_limite"])
def test_compras_que_nao_acontecem_nao_mexem_no_estoque(lab, cenario):
    a = criar_livro(lab, preco="2600.00", estoque=2)
    b = criar_livro(lab, preco="10.00", estoque=1)
    itens, extra, esperado = {
        "sem_estoque": ([{"livro_id": a, "quantidade": 3}], {}, (409, "estoque_indisponivel")),
        "tudo_ou_nada": ([{"livro_id": b, "quantidade": 1}, {"livro_id": a, "quantidade": 3}], {},
                         (409, "estoque_indisponivel")),
        "livro_desconhecido": ([{"livro_id": b, "quantidade": 1}, {"livro_id": 10**6, "quantidade": 1}], {},
                               (422, None)),
        "cartao_recusado": ([{"livro_id": b, "quantidade": 1}], {"cartao": CARTAO_RECUSADO},
                            (402, "pagamento_recusado")),
        "acima_do_limite": ([{"livro_id": a, "quantidade": 2}], {}, (402, "pagamento_recusado")),
    }[cenario]
    status, corpo = comprar(lab, itens, **extra)
    assert (status, corpo.get("status")) == esperado
    assert corpo["erro"]
    assert (estoque(lab, a), estoque(lab, b)) == (2, 1)


def test_pagamento_idempotente_por_ordem(lab):
    corpo = {"ordem_id": 10**6, "valor": 12.5, "cartao": "4111111111111111"}
    primeira = requests.post(lab.url("pagamentos") + "/pagamentos", json=corpo, timeout=5)
    segunda = requests.post(lab.url("pagamentos") + "/pagamentos", json=corpo, timeout=5)
    assert (primeira.status_code, segunda.status_code) == (201, 200)
    assert primeira.json() == segunda.json()
    assert len(pagamentos_da_ordem(lab, 10**6)) == 1


def test_pagamento_feito_por_fora_nunca_e_tomado_pelo_da_ordem(lab):
    """Alguém cobra à mão (curl) o ordem_id que a próxima compra vai usar. A compra não toma aquele
    pagamento pelo dela (a saga cobra com a Idempotency-Key da ordem): falha com o motivo dito, não
    cobra nada, devolve o estoque, e o pagamento de fora fica como estava — nem estornado."""
    livro = criar_livro(lab, estoque=2)
    proxima = max((o["id"] for o in requests.get(lab.url("ordens") + "/ordens?limite=1", timeout=5).json()),
                  default=0) + 1
    de_fora = requests.post(lab.url("pagamentos") + "/pagamentos", timeout=5,
                            json={"ordem_id": proxima, "valor": 39.9, "cartao": "4111111111111111"}).json()
    status, ordem = comprar(lab, [{"livro_id": livro, "quantidade": 1}])
    assert ordem["id"] == proxima
    assert (status, ordem["status"], ordem["motivo"]) == (409, "falhou", "pagamento_conflitante")
    assert "pagamento feito por fora" in ordem["erro"]
    assert estoque(lab, livro) == 2
    assert [(p["id"], p["status"]) for p in pagamentos_da_ordem(lab, proxima)] == [(de_fora["id"], "aprovado")]


def test_idempotency_key_repetida_move_o_estoque_uma_vez(lab):
    livro = criar_livro(lab, estoque=5)
    chave = {"Idempotency-Key": f"e2e-{time.time_ns()}"}
    respostas = [comprar(lab, [{"livro_id": livro, "quantidade": 2}], headers=chave) for _ in range(3)]
    assert {status for status, _ in respostas} == {201}
    assert len({ordem["id"] for _, ordem in respostas}) == 1
    assert estoque(lab, livro) == 3


def test_corrida_pelo_ultimo_exemplar_reservas_diretas(lab):
    """50 reservas simultâneas de 1 exemplar, 5 em estoque, 4 workers de livros."""
    livro = criar_livro(lab, estoque=5)
    minimo_visto = []
    parar = threading.Event()

    def vigiar():
        while not parar.is_set():
            minimo_visto.append(estoque(lab, livro))

    vigia = threading.Thread(target=vigiar)
    vigia.start()
    barreira = threading.Barrier(50)

    def reservar(_):
        barreira.wait()
        return requests.post(lab.url("livros") + "/reservas", timeout=30,
                             json={"itens": [{"livro_id": livro, "quantidade": 1}]}).status_code

    with ThreadPoolExecutor(50) as executor:
        codigos = list(executor.map(reservar, range(50)))
    parar.set()
    vigia.join()
    assert sorted(codigos).count(201) == 5 and codigos.count(409) == 45
    assert estoque(lab, livro) == 0
    assert min(minimo_visto) >= 0


def test_corrida_de_50_compradores_por_5_exemplares(lab):
    livro = criar_livro(lab, estoque=5)
    barreira = threading.Barrier(50)

    def comprar_um(_):
        barreira.wait()
        return comprar(lab, [{"livro_id": livro, "quantidade": 1}])

    with ThreadPoolExecutor(50) as executor:
        resultados = list(executor.map(comprar_um, range(50)))
    concluidas = [ordem for status, ordem in resultados if status == 201]
    assert len(concluidas) == 5
    assert all(status == 409 for status, _ in resultados if status != 201)
    assert estoque(lab, livro) == 0
    aprovados = [p for ordem in concluidas for p in pagamentos_da_ordem(lab, ordem["id"])]
    assert [p["status"] for p in aprovados] == ["aprovado"] * 5


def test_reserva_expira_durante_o_pagamento_410_e_estorno(lab):
    """livros com TTL de 1 s e pagamentos levando 1,5 s: a confirmação recebe
    410, ordens estorna e responde 409 com motivo reserva_expirada."""
    lab.parar_servico("livros")
    lab.iniciar_servico("livros", RESERVA_TTL_SEGUNDOS="1")
    try:
        lab.esperar_pronto("livros")
        livro = criar_livro(lab, estoque=1)
        # expiração simples: a reserva some do estoque e volta sozinha
        reserva = requests.post(lab.url("livros") + "/reservas", timeout=5,
                                json={"itens": [{"livro_id": livro, "quantidade": 1}]}).json()
        assert estoque(lab, livro) == 0
        esperar(lambda: estoque(lab, livro) == 1, limite=5, descricao="a reserva de 1 s expirar")
        assert requests.post(f"{lab.url('livros')}/reservas/{reserva['id']}/confirmacao", timeout=5).status_code == 410

        injetar_falha(lab, "pagamentos", latencia_ms=1500)
        status, ordem = comprar(lab, [{"livro_id": livro, "quantidade": 1}])
        assert status == 409
        assert (ordem["status"], ordem["motivo"]) == ("falhou", "reserva_expirada")
        assert [p["status"] for p in pagamentos_da_ordem(lab, ordem["id"])] == ["estornado"]
        assert estoque(lab, livro) == 1
    finally:
        lab.parar_servico("livros")
        lab.iniciar_servico("livros")
        lab.esperar_pronto("livros")


def test_pagamentos_parado_503_falhou_estoque_devolvido(lab):
    livro = criar_livro(lab, estoque=2)
    lab.parar_servico("pagamentos")
    try:
        status, ordem = comprar(lab, [{"livro_id": livro, "quantidade": 2}])
    finally:
        lab.iniciar_servico("pagamentos")
        lab.esperar_pronto("pagamentos")
    assert status == 503
    assert (ordem["status"], ordem["motivo"]) == ("falhou", "pagamentos_indisponivel")
    assert estoque(lab, livro) == 2
    assert reservas_da_ordem(lab, ordem["id"])[0]["status"] == "cancelada"


def test_pagamentos_com_erro_injetado_503(lab):
    livro = criar_livro(lab, estoque=2)
    injetar_falha(lab, "pagamentos", taxa_erro=1)
    status, ordem = comprar(lab, [{"livro_id": livro, "quantidade": 1}])
    assert (status, ordem["status"], ordem["motivo"]) == (503, "falhou", "pagamentos_indisponivel")
    assert estoque(lab, livro) == 2


def test_latencia_injetada_em_livros_atrasa_mas_compra(lab):
    livro = criar_livro(lab, estoque=2)
    injetar_falha(lab, "livros", latencia_ms=200)
    assert requests.get(lab.url("livros") + "/admin/falhas", timeout=5).json()["latencia_ms"] == 200
    inicio = time.monotonic()
    status, ordem = comprar(lab, [{"livro_id": livro, "quantidade": 1}])
    # 3 chamadas a livros: consulta, reserva, confirmação
    assert status == 201 and time.monotonic() - inicio >= 0.6
    assert requests.get(lab.url("livros") + "/health", timeout=1).status_code == 200


def test_latencia_injetada_alem_do_prazo_vira_504_json_e_o_health_responde_enquanto_isso(lab):
    """`bookstore.falha=livros:latencia_ms=60000` num livros com GUNICORN_TIMEOUT=3: a requisição
    espera o prazo (2 s) e responde 504 em JSON, antes de o worker ser morto; enquanto ela dorme,
    /health responde (o outro worker atende)."""
    lab.parar_servico("livros")
    lab.iniciar_servico("livros", GUNICORN_TIMEOUT="3", WEB_CONCURRENCY="2")
    try:
        lab.esperar_pronto("livros")
        lenta = {}

        def pedir():
            inicio = time.monotonic()
            resposta = requests.get(lab.url("livros") + "/livros", timeout=10,
                                    headers={"baggage": "bookstore.falha=livros:latencia_ms=60000"})
            lenta.update(resposta=resposta, segundos=time.monotonic() - inicio)

        thread = threading.Thread(target=pedir)
        thread.start()
        time.sleep(0.3)  # a requisição lenta já está dormindo no worker
        inicio = time.monotonic()
        assert requests.get(lab.url("livros") + "/health", timeout=2).status_code == 200
        saude_segundos = time.monotonic() - inicio
        thread.join()
        resposta = lenta["resposta"]
        assert resposta.status_code == 504 and resposta.json()["prazo_ms"] == 2000, resposta.text
        assert lenta["segundos"] < 3, f"{lenta['segundos']:.1f} s: passou do timeout do worker"
        assert saude_segundos < 1
        assert "WORKER TIMEOUT" not in lab.log("livros")
    finally:
        lab.parar_servico("livros")
        lab.iniciar_servico("livros")
        lab.esperar_pronto("livros")


def test_worker_morto_no_meio_da_saga_e_desfeito_pela_recuperacao(lab):
    """ordens morre (SIGKILL) com a cobrança a caminho. Ao voltar, a passada de
    recuperação do arranque cancela a reserva e estorna a cobrança atrasada."""
    livro = criar_livro(lab, estoque=1)
    injetar_falha(lab, "pagamentos", latencia_ms=2000)

    def comprar_e_perder_a_resposta():
        with pytest.raises(requests.ConnectionError):  # ordens morre antes de responder
            requests.post(lab.url("ordens") + "/ordens", timeout=30,
                          json={"itens": [{"livro_id": livro, "quantidade": 1}]})

    compra = threading.Thread(target=comprar_e_perder_a_resposta)
    compra.start()

    def ordem_cobrando():
        ordens = requests.get(lab.url("ordens") + "/ordens?limite=1", timeout=5).json()
        if ordens and ordens[0]["status"] == "estoque_reservado" and ordens[0]["itens"][0]["livro_id"] == livro:
            return ordens[0]["id"]
        return None

    ordem_id = esperar(ordem_cobrando, limite=5, intervalo=0.05, descricao="a ordem chegar à cobrança")
    lab.parar_servico("ordens", sinal=signal.SIGKILL)
    compra.join()
    assert estoque(lab, livro) == 0  # a reserva ficou para trás
    lab.iniciar_servico("ordens", ORDENS_ABANDONO_SEGUNDOS="3")
    try:
        lab.esperar_pronto("ordens")
        injetar_falha(lab, "pagamentos")

        def ordem_desfeita():
            ordem = requests.get(f"{lab.url('ordens')}/ordens/{ordem_id}", timeout=5).json()
            return ordem if ordem["status"] == "falhou" else None

        ordem = esperar(ordem_desfeita, limite=20, intervalo=0.25, descricao="a recuperação desfazer a ordem")
        assert (ordem["status"], ordem["motivo"]) == ("falhou", "interrompida")
        assert estoque(lab, livro) == 1
        assert [p["status"] for p in pagamentos_da_ordem(lab, ordem_id)] == ["estornado"]
    finally:
        lab.parar_servico("ordens")
        lab.iniciar_servico("ordens")
        lab.esperar_pronto("ordens")


def test_falha_no_baggage_viaja_de_ordens_ate_o_servico_nomeado_so_naquela_compra(lab):
    """`baggage: bookstore.falha=…` no POST /ordens: ordens não a usa, mas a repassa (a
    instrumentação do requests injeta o baggage) e pagamentos a aplica — só nessa compra."""
    livro = criar_livro(lab, estoque=5)
    itens = [{"livro_id": livro, "quantidade": 1}]
    status, ordem = comprar(lab, itens, headers={"baggage": "bookstore.falha=pagamentos:erro"})
    assert (status, ordem["status"], ordem["motivo"]) == (503, "falhou", "pagamentos_indisponivel")
    assert estoque(lab, livro) == 5  # a compensação devolveu a reserva
    inicio = time.monotonic()
    status, _ = comprar(lab, itens, headers={"baggage": "bookstore.falha=livros:latencia_ms=150"})
    # livros atende três chamadas na compra (catálogo, reserva, confirmação): 3 x 150 ms.
    assert status == 201 and time.monotonic() - inicio >= 0.45
    assert comprar(lab, itens)[0] == 201  # sem baggage, nada
