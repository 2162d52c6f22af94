"""As regras da compra sozinhas (ordens/regras.py): sem gunicorn, sem banco, sem broker.

As duas sagas (HTTP e mensagens) só carregam o que estas funções decidem; os testes de ponta a ponta
(test_ordens.py, test_mensagens.py) provam que cada transporte as carrega até o outro serviço.
"""
import pytest

from ordens import regras
from ordens.regras import CANCELAR_RESERVA, ESTORNAR, TERMINAR, Desfecho


def ordem(status="estoque_reservado", cobranca_incerta=False, desfazer_para="falhou", motivo="livros_timeout",
          codigo_http=504):
    return {"status": status, "cobranca_incerta": cobranca_incerta, "desfazer_para": desfazer_para,
            "motivo": motivo, "codigo_http": codigo_http}


def plano(ordem_em_desfazer: dict) -> list[str]:
    """Os passos na ordem em que as sagas os dão, cada um voltando bem."""
    feitos, passos = set(), []
    while (proximo := regras.proximo_passo_do_desfazer(ordem_em_desfazer, feitos)) != TERMINAR:
        assert proximo not in feitos, f"{proximo} de novo"
        passos.append(proximo)
        feitos.add(proximo)
    return passos


@pytest.mark.parametrize("pagamento, esperado", [
    ({"status": "aprovado", "motivo": None}, None),
    ({"status": "recusado", "motivo": "cartao_recusado"}, Desfecho("pagamento_recusado", "cartao_recusado", 402)),
    ({"status": "recusado", "motivo": "limite_excedido"}, Desfecho("pagamento_recusado", "limite_excedido", 402)),
    # Voltou estornado: outra passada desta ordem já desfez a cobrança.
    ({"status": "estornado", "motivo": None}, Desfecho("falhou", "pagamento_estornado", 409)),
])
def test_o_que_a_resposta_de_pagamentos_decide(pagamento, esperado):
    assert regras.desfecho_da_cobranca(pagamento) == esperado


def test_desfechos_fixos_da_compra():
    assert regras.CONCLUIDA == Desfecho("concluida", None, 201)
    assert regras.SEM_ESTOQUE == Desfecho("estoque_indisponivel", "estoque_insuficiente", 409)
    assert regras.PAGAMENTO_CONFLITANTE == Desfecho("falhou", "pagamento_conflitante", 409)
    assert regras.RESERVA_EXPIRADA == Desfecho("falhou", "reserva_expirada", 409)
    assert regras.INTERROMPIDA == Desfecho("falhou", "interrompida", 503)


@pytest.mark.parametrize("tipo, codigo", [("indisponivel", 503), ("timeout", 504), ("resposta_invalida", 502)])
def test_dependencia_que_falhou_e_5xx_pelo_tipo_nos_dois_transportes(tipo, codigo):
    por_http = regras.dependencia_falhou("pagamentos", tipo)
    assert por_http == Desfecho("falhou", f"pagamentos_{tipo}", codigo)
    # Por mensagens, o serviço responde o motivo pronto; o desfecho é o mesmo.
    assert regras.desfecho_do_motivo_de_falha(f"pagamentos_{tipo}") == por_http


@pytest.mark.parametrize("situacao, esperado", [
    # Falhou ao reservar (ou a reserva nem chegou a ser gravada): só livros a desfazer.
    (ordem(status="criada"), [CANCELAR_RESERVA]),
    # Reservou; a cobrança teve certeza de que nada foi cobrado (recusa, conexão recusada).
    (ordem(), [CANCELAR_RESERVA]),
    # Reservou e a cobrança ficou sem resposta: pode ter cobrado.
    (ordem(cobranca_incerta=True), [CANCELAR_RESERVA, ESTORNAR]),
    # Cobrou: a reserva primeiro, o estorno depois.
    (ordem(status="pagamento_aprovado", desfazer_para="falhou", motivo="reserva_expirada", codigo_http=409),
     [CANCELAR_RESERVA, ESTORNAR]),
])
def test_o_desfazer_e_a_compra_na_ordem_inversa(situacao, esperado):
    assert plano(situacao) == esperado


def test_o_desfazer_retoma_do_passo_que_falta():
    """A recuperação (ou a próxima mensagem) pergunta de novo: o que já voltou não se repete."""
    aprovada = ordem(status="pagamento_aprovado")
    assert regras.proximo_passo_do_desfazer(aprovada, set()) == CANCELAR_RESERVA
    assert regras.proximo_passo_do_desfazer(aprovada, {CANCELAR_RESERVA}) == ESTORNAR
    assert regras.proximo_passo_do_desfazer(aprovada, {CANCELAR_RESERVA, ESTORNAR}) == TERMINAR


@pytest.mark.parametrize("resposta_pendente", [True, False])
def test_o_desfazer_termina_no_desfecho_decidido(resposta_pendente):
    decidida = ordem(status="pagamento_aprovado", motivo="reserva_expirada", codigo_http=409)
    assert regras.desfecho_do_desfazer(decidida, None, resposta_pendente) == Desfecho("falhou", "reserva_expirada", 409)
    recusada = ordem(desfazer_para="pagamento_recusado", motivo="cartao_recusado", codigo_http=402)
    assert regras.desfecho_do_desfazer(recusada, None, resposta_pendente) == Desfecho("pagamento_recusado",
                                                                                     "cartao_recusado", 402)


RECUSADO = {"id": 9, "status": "recusado", "motivo": "cartao_recusado"}


def test_cobranca_incerta_que_era_recusa_responde_402_a_quem_ainda_espera():
    """A requisição da compra (HTTP) repetiu a cobrança e achou a recusa: responde o 402 dela."""
    decidida = ordem(cobranca_incerta=True, motivo="pagamentos_timeout", codigo_http=504)
    assert regras.desfecho_do_desfazer(decidida, RECUSADO, resposta_pendente=True) == Desfecho(
        "pagamento_recusado", "cartao_recusado", 402)


@pytest.mark.parametrize("decidida", [
    ordem(cobranca_incerta=True, motivo="pagamentos_timeout", codigo_http=504),  # a recuperação, depois do 504
    ordem(cobranca_incerta=True, motivo="interrompida", codigo_http=503),  # por mensagens, depois do 202
])
def test_cobranca_incerta_que_era_recusa_conta_a_recusa_e_guarda_o_codigo_ja_respondido(decidida):
    """Quem termina depois que o cliente teve a resposta: a ordem conta a recusa, e o código gravado (o que
    uma repetição com a mesma Idempotency-Key devolve) continua o da primeira resposta."""
    assert regras.desfecho_do_desfazer(decidida, RECUSADO, resposta_pendente=False) == Desfecho(
        "pagamento_recusado", "cartao_recusado", decidida["codigo_http"])


@pytest.mark.parametrize("motivo, mensagem", [
    ("estoque_insuficiente", "estoque insuficiente para concluir a compra"),
    ("cartao_recusado", "pagamento recusado pelo emissor do cartão"),
    ("limite_excedido", "pagamento recusado: valor acima do limite"),
    ("reserva_expirada", "a reserva expirou durante o pagamento; o valor foi estornado"),
    ("interrompida", "a compra foi interrompida e desfeita"),
    ("pagamentos_timeout", "o serviço pagamentos não respondeu a tempo; a compra foi desfeita"),
    ("livros_indisponivel", "o serviço livros está indisponível; a compra foi desfeita"),
    ("livros_resposta_invalida", "o serviço livros deu uma resposta inválida; a compra foi desfeita"),
    ("desconhecido", "a compra não pôde ser concluída"),
    (None, "a compra não pôde ser concluída"),
])
def test_a_mensagem_de_cada_motivo(motivo, mensagem):
    assert regras.mensagem_de_erro(motivo) == mensagem


def test_todo_desfecho_de_erro_tem_uma_mensagem_propria():
    fixos = [valor for valor in vars(regras).values() if isinstance(valor, Desfecho) and valor.codigo_http >= 400]
    assert len(fixos) == 5
    assert all(desfecho.motivo in regras.MENSAGENS for desfecho in fixos)
