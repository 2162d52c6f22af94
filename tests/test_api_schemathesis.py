"""Schemathesis ataca os três serviços de verdade (gunicorn, PostgreSQL).

Cada operação documentada em `<serviço>/openapi.py` recebe requisições geradas do
esquema — válidas e inválidas — com número fixo de exemplos e geração
determinística (derandomize), para o tempo do CI ser previsível. Nenhuma pode dar
5xx, e toda resposta precisa estar documentada (status, Content-Type e corpo).
As rotas /admin ficam de fora: injetam 500 de propósito (estão documentadas).

A ordem importa: ordens e livros primeiro, depois a conta do estoque e do
dinheiro, e pagamentos por último — chamado direto, pagamentos aceita cobranças
de ordem_id quaisquer (é o ordens quem deveria chamá-lo), o que tornaria a conta
das ordens ambígua."""
from collections import Counter

import pytest
import requests
import schemathesis
from schemathesis import checks
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from bookstore import topologia
from ferramentas import invariantes
from modo_local.servicos import Laboratorio
from tests.apoio import portas_livres

pytestmark = pytest.mark.e2e
EXEMPLOS_POR_OPERACAO = 15
# O catálogo inicial (livros/catalogo_inicial.sql): a conta do estoque parte dele.
ESTOQUE_INICIAL = {1: 10, 2: 8, 3: 5, 4: 12, 5: 7, 6: 6, 7: 4, 8: 9, 9: 3, 10: 1}
# Todos os checks: nada de 5xx; status, Content-Type, cabeçalhos e corpo como documentados; dado
# inválido recusado (4xx) e dado válido aceito. O contrato manda 422 para regras que o JSON Schema
# não exprime (livro fora do catálogo, livro repetido, cartão que falha no Luhn), escritas na
# descrição de cada operação: um 422 para dado válido só passa se o motivo for uma delas.
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_headers_conformance, checks.response_schema_conformance,
          checks.negative_data_rejection, checks.positive_data_acceptance]
REGRAS_DO_CONTRATO = ("não existe no catálogo", "livro repetido", "falha no dígito verificador",
                      "já foi usada com outro corpo")
# Dado inválido deve ser recusado; 413/414/431 (corpo, URL ou cabeçalho grandes
# demais) também são recusas, e estão documentados. Dado válido: 2xx, ou um 404/409/402 de
# negócio (livro, reserva ou ordem que não existe; sem estoque; cartão recusado), ou o 422 acima.
CONFIG = SchemathesisConfig.from_dict({"checks": {
    "negative_data_rejection": {"expected-statuses": ["400", "404", "405", "409", "413", "414", "422", "431"]},
    "positive_data_acceptance": {"expected-statuses": ["2xx", "402", "404", "409", "410", "422"]}}})


def recusa_valida_so_por_regra_do_contrato(ctx, response, case):
    """Check do modo positivo: um 422 para dado válido pelo esquema precisa nomear uma regra do
    contrato documentada na operação; qualquer outro é o servidor e a documentação discordando."""
    if response.status_code == 422:
        erro = response.json().get("erro", "")
        if not any(regra in erro for regra in REGRAS_DO_CONTRATO):
            raise AssertionError(f"422 para um pedido válido pelo esquema, sem regra do contrato: {erro}")
CONFIGURACAO = settings(max_examples=EXEMPLOS_POR_OPERACAO, derandomize=True, deadline=None,
                        suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def lab(postgres, tmp_path_factory):
    laboratorio = Laboratorio(postgres, portas=portas_livres(), prefixo_bancos="api_",
                              pasta_logs=tmp_path_factory.mktemp("logs-api"),
                              ambiente={"WEB_CONCURRENCY": "2", "ADMIN_HABILITADO": "true",
                                        "OTEL_SDK_DISABLED": "true", "ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS": "1"})
    with laboratorio.iniciar(recriar_bancos=True):
        yield laboratorio


def atacar(lab, servico: str, modo: GenerationMode, enviados: Counter) -> list[str]:
    """Todas as operações documentadas (menos /admin), EXEMPLOS_POR_OPERACAO cada; conta em
    `enviados` e devolve as falhas (uma linha por operação que falhou, com o caso mínimo)."""
    esquema = schemathesis.openapi.from_url(lab.url(servico) + "/openapi.json",
                                            config=CONFIG).exclude(path_regex="^/admin")
    falhas = []
    for resultado in esquema.get_all_operations():
        operacao = resultado.ok()

        @given(caso=operacao.as_strategy(generation_mode=modo))
        @CONFIGURACAO
        def chamar(caso):
            enviados[(servico, modo.value, operacao.label)] += 1
            extras = [recusa_valida_so_por_regra_do_contrato] if modo == GenerationMode.POSITIVE else []
            caso.call_and_validate(base_url=lab.url(servico), timeout=15, checks=[*CHECKS, *extras])

        try:
            chamar()
        except Unsatisfiable:
            pass  # modo negativo numa operação sem parâmetro nem corpo (/health): nada a invalidar
        except (Exception, BaseExceptionGroup) as falha:  # o relatório do Schemathesis diz o caso e o check
            falhas.append(f"{modo} {operacao.label}: {falha}")
    return falhas


@pytest.fixture(scope="module")
def ataque(lab):
    """O ataque inteiro, uma vez: (serviço, modo) → falhas, quantas requisições cada operação
    recebeu, e a conta dos três bancos feita antes de atacar pagamentos direto — um pagamento
    criado fora da saga, para um ordem_id qualquer, não é uma compra que a conta possa fechar.
    Cada teste abaixo lê o resultado, em qualquer ordem que rode."""
    enviados: Counter = Counter()  # (serviço, modo, operação) → requisições enviadas
    falhas = {}
    antes_de_pagamentos = [servico for servico in topologia.SERVICOS if servico != "pagamentos"]
    for servico in [*antes_de_pagamentos, "pagamentos"]:
        if servico == "pagamentos":
            assert invariantes.esperar_ordens_terminarem(lab, limite_segundos=30) == 0
            conta = invariantes.verificar_invariantes(lab, ESTOQUE_INICIAL)
        for modo in GenerationMode:
            falhas[(servico, modo.value)] = atacar(lab, servico, modo, enviados)
    return falhas, enviados, conta


@pytest.mark.parametrize("modo", [modo.value for modo in GenerationMode])
@pytest.mark.parametrize("servico", topologia.SERVICOS)
def test_servico_responde_como_documentado(ataque, servico, modo):
    falhas, *_ = ataque
    assert falhas[(servico, modo)] == [], "\n\n".join(falhas[(servico, modo)])


def test_depois_do_ataque_a_livros_e_ordens_estoque_e_dinheiro_batem(ataque):
    *_, conta = ataque
    assert {nome: violacoes for nome, _, violacoes in conta if violacoes} == {}


def test_cada_operacao_documentada_foi_atacada_e_os_servicos_seguem_de_pe(lab, ataque):
    _, enviados, _ = ataque
    operacoes = {(servico, rotulo) for servico, _, rotulo in enviados}
    print(f"\nSchemathesis: {len(operacoes)} operações, {sum(enviados.values())} requisições geradas")
    for (servico, modo, rotulo), n in sorted(enviados.items()):
        print(f"  {servico:<11}{modo:<9}{rotulo:<48}{n:>4}")
    # 15 operações de negócio (8 de livros, 3 de ordens, 4 de pagamentos) + /health e /ready
    # em cada serviço; as /admin ficam de fora.
    assert len(operacoes) == 21
    assert all(n >= 5 for (_, modo, rotulo), n in enviados.items()
               if modo == "positive" and rotulo not in ("GET /health", "GET /ready"))
    for servico in topologia.SERVICOS:
        assert requests.get(lab.url(servico) + "/ready", timeout=5).status_code == 200


# --- os quatro casos do issue, e os limites, como regressão ---------------------------------
def test_json_aninhado_demais_e_recusado_antes_do_parse(lab):
    # O caso do issue (100 000 níveis, 200 KB) esbarra antes no limite de tamanho...
    resposta = requests.post(lab.url("ordens") + "/ordens", data="[" * 100_000 + "]" * 100_000, timeout=10)
    assert resposta.status_code == 413 and resposta.json()["erro"] == "corpo da requisição grande demais"
    # ...e 10 000 níveis cabem em 64 KiB, mas não no limite de aninhamento.
    resposta = requests.post(lab.url("ordens") + "/ordens", data="[" * 10_000 + "]" * 10_000, timeout=10)
    assert resposta.status_code == 400 and "aninhado" in resposta.json()["erro"]


@pytest.mark.parametrize("servico, caminho, corpo, campo", [
    ("ordens", "/ordens", {"itens": [{"livro_id": 1, "quantidade": 1}], "cliente": "Ana\u0000"}, "cliente"),
    ("livros", "/livros", {"titulo": "Dom\u0000Casmurro", "preco": 10, "estoque": 1}, "titulo"),
    ("livros", "/livros", {"titulo": "ok", "autor": "\ud800", "preco": 10, "estoque": 1}, "autor"),
])
def test_caractere_que_o_postgresql_nao_guarda_e_422_e_nada_muda(lab, servico, caminho, corpo, campo):
    antes = requests.get(lab.url(servico) + caminho + "?limite=200", timeout=5).json()
    resposta = requests.post(lab.url(servico) + caminho, json=corpo, timeout=10)
    assert resposta.status_code == 422
    assert resposta.json()["campo"] == campo and campo in resposta.json()["erro"]
    assert requests.get(lab.url(servico) + caminho + "?limite=200", timeout=5).json() == antes


def test_cabecalho_grande_demais_e_431_em_json(lab):
    resposta = requests.post(lab.url("ordens") + "/ordens", json={"itens": [{"livro_id": 1, "quantidade": 1}]},
                             headers={"Idempotency-Key": "k" * 10_000}, timeout=10)
    assert resposta.status_code == 431
    assert resposta.headers["Content-Type"] == "application/json"
    assert "cabeçalhos grandes demais" in resposta.json()["erro"]


def test_url_longa_demais_e_414_em_json(lab):
    resposta = requests.get(lab.url("livros") + "/livros?x=" + "a" * 5000, timeout=10)
    assert resposta.status_code == 414 and "longa demais" in resposta.json()["erro"]


def test_corpo_grande_demais_e_413_em_json(lab):
    resposta = requests.post(lab.url("livros") + "/livros", timeout=10,
                             json={"titulo": "x" * 70_000, "preco": 1, "estoque": 1})
    assert resposta.status_code == 413 and resposta.json() == {"erro": "corpo da requisição grande demais"}


def test_id_alem_do_inteiro_do_banco_e_404(lab):
    for servico, caminho in (("livros", "/livros"), ("ordens", "/ordens"), ("pagamentos", "/pagamentos")):
        resposta = requests.get(f"{lab.url(servico)}{caminho}/99999999999", timeout=5)
        assert resposta.status_code == 404 and "erro" in resposta.json()


# --- o documento e a página -----------------------------------------------------------------
@pytest.mark.parametrize("servico", topologia.SERVICOS)
def test_documento_openapi_e_valido_e_descreve_o_contrato(lab, servico):
    from openapi_spec_validator import validate
    documento = requests.get(lab.url(servico) + "/openapi.json", timeout=5).json()
    validate(documento)  # levanta exceção se o documento não for OpenAPI 3.1 válido
    assert documento["openapi"] == "3.1.0"
    assert {"/health", "/ready", "/admin/falhas"} <= set(documento["paths"])
    for operacoes in documento["paths"].values():
        for operacao in operacoes.values():
            assert operacao["summary"] and all(r["description"] for r in operacao["responses"].values())


def test_docs_serve_o_swagger_ui_sem_cdn(lab):
    pagina = requests.get(lab.url("livros") + "/docs/", timeout=5)
    assert pagina.status_code == 200 and "swagger-ui-bundle.js" in pagina.text
    assert "http" not in pagina.text.split("<body>", 1)[1].split("/openapi.json")[0].replace("http-equiv", "")
    assert requests.get(lab.url("livros") + "/docs/swagger-ui-bundle.js", timeout=5).status_code == 200
