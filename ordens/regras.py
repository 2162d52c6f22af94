"""As regras da compra, uma vez só para os dois transportes.

`saga.py` (HTTP: chama e espera) e `orquestrador.py` (mensagens: envia e segue quando o evento chega)
perguntam aqui o que cada resposta significa e o que fazer em seguida; eles só carregam a resposta
até o outro serviço e gravam pelo `repositorio.py`. Nada aqui fala com rede, banco ou fila: as regras
se testam sozinhas (tests/test_regras.py).

- Os desfechos: cada fim possível de uma compra — o status final, o motivo que a ordem guarda e o
  código HTTP que o cliente recebe (e que uma repetição com a mesma Idempotency-Key devolve).
- O desfazer: o próximo passo da compensação, pelo que a ordem já fez e o que já foi desfeito.
- A mensagem em português de cada motivo, para o campo "erro" das respostas.
"""
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class Desfecho:
    status: str
    motivo: str | None
    codigo_http: int


CONCLUIDA = Desfecho("concluida", None, 201)
SEM_ESTOQUE = Desfecho("estoque_indisponivel", "estoque_insuficiente", 409)
# Este ordem_id já tem um pagamento que não é desta ordem (feito à mão, por fora da saga): nada
# desta ordem foi cobrado, e o de lá não é tocado.
PAGAMENTO_CONFLITANTE = Desfecho("falhou", "pagamento_conflitante", 409)
# A cobrança voltou já estornada: outra passada desta ordem desfez a cobrança.
PAGAMENTO_ESTORNADO = Desfecho("falhou", "pagamento_estornado", 409)
# A reserva venceu enquanto o pagamento demorava: o dinheiro volta.
RESERVA_EXPIRADA = Desfecho("falhou", "reserva_expirada", 409)
# A recuperação achou a ordem parada tempo demais (o worker sumiu). É a única decisão que cede:
# quem souber o que a dependência respondeu decide por cima dela (repositorio.decidir_desfazer).
INTERROMPIDA = Desfecho("falhou", "interrompida", 503)

# A requisição terminou sem desfecho (outra passada leva a ordem adiante, ou a compensação ficou
# pendente e a recuperação a termina): o cliente tenta de novo, com a mesma Idempotency-Key, ou
# consulta GET /ordens/{id}.
CODIGO_SEM_DESFECHO = 503

# Uma dependência que falhou: <serviço>_<tipo> → o 5xx que ordens responde.
CODIGO_POR_FALHA = {"indisponivel": 503, "timeout": 504, "resposta_invalida": 502}


def pagamento_recusado(motivo: str) -> Desfecho:
    """O emissor recusou (cartao_recusado, limite_excedido): 402, em qualquer transporte."""
    return Desfecho("pagamento_recusado", motivo, 402)


def dependencia_falhou(servico: str, tipo: str) -> Desfecho:
    return Desfecho("falhou", f"{servico}_{tipo}", CODIGO_POR_FALHA[tipo])


def desfecho_do_motivo_de_falha(motivo: str) -> Desfecho:
    """A falha que um serviço respondeu por mensagem ("pagamentos_indisponivel") como desfecho."""
    servico, _, tipo = motivo.partition("_")
    return dependencia_falhou(servico, tipo)


def desfecho_da_cobranca(pagamento: dict) -> Desfecho | None:
    """O que a resposta de pagamentos decide. None: aprovado, a compra segue para a confirmação."""
    if pagamento["status"] == "aprovado":
        return None
    if pagamento["status"] == "recusado":
        return pagamento_recusado(pagamento["motivo"])
    return PAGAMENTO_ESTORNADO  # nunca "recusado" sem motivo: a ordem conta o que aconteceu


# --- o desfazer -------------------------------------------------------------------------------
# Desfazer é a compra na ordem inversa. A reserva primeiro: se livros disser que ela já foi
# confirmada, a venda aconteceu (a resposta é que se perdeu) e o pagamento NÃO é estornado — a ordem
# se conclui (CONCLUIDA). Depois o pagamento, se houve cobrança ou pode ter havido (a resposta dela
# não chegou). Cancelar e estornar são idempotentes: repetir um passo nunca devolve em dobro.
CANCELAR_RESERVA = "cancelar_reserva"
ESTORNAR = "estornar"
TERMINAR = "terminar"


def proximo_passo_do_desfazer(ordem: dict, feitos: Collection[str]) -> str:
    """CANCELAR_RESERVA, ESTORNAR ou TERMINAR, para uma ordem com `desfazer_para` gravado.
    `feitos`: os passos que já voltaram bem (a saga HTTP os conta na memória; a por mensagens, no banco)."""
    if CANCELAR_RESERVA not in feitos:
        return CANCELAR_RESERVA
    cobrou_ou_pode_ter_cobrado = ordem["status"] == "pagamento_aprovado" or ordem["cobranca_incerta"]
    if cobrou_ou_pode_ter_cobrado and ESTORNAR not in feitos:
        return ESTORNAR
    return TERMINAR


def desfecho_do_desfazer(ordem: dict, recusado: dict | None, resposta_pendente: bool) -> Desfecho:
    """O status final quando o desfazer termina: o que foi decidido (`desfazer_para`, motivo e código
    gravados) — salvo uma cobrança incerta que, resolvida, se revelou uma recusa (`recusado`, o pagamento
    recusado que pagamentos devolveu). Aí a ordem conta o que aconteceu: pagamento_recusado, com o motivo
    do emissor, em qualquer transporte.

    O código é outra coisa: é a resposta que o cliente recebe, e uma repetição com a mesma
    Idempotency-Key devolve a primeira resposta (CONTRACT.md). Se ninguém respondeu ainda — a
    requisição da compra, por HTTP, esperando o desfazer que ela mesma começou — a resposta é o 402 da
    recusa. Se o cliente já tem a dele (o 5xx da compensação pendente, que a recuperação termina depois;
    o 202 da compra por mensagens), o código gravado fica o da decisão: um 5xx já enviado não vira 402
    depois, e quem quiser o desfecho o lê em GET /ordens/{id}."""
    if recusado and ordem["desfazer_para"] == "falhou":
        recusa = pagamento_recusado(recusado["motivo"])
        return recusa if resposta_pendente else Desfecho(recusa.status, recusa.motivo, ordem["codigo_http"])
    return Desfecho(ordem["desfazer_para"], ordem["motivo"], ordem["codigo_http"])


# --- o que o cliente lê -----------------------------------------------------------------------
# A mensagem (pt-BR) do campo "erro" nas respostas de ordens que não deram certo.
MENSAGENS = {
    SEM_ESTOQUE.motivo: "estoque insuficiente para concluir a compra",
    "cartao_recusado": "pagamento recusado pelo emissor do cartão",
    "limite_excedido": "pagamento recusado: valor acima do limite",
    RESERVA_EXPIRADA.motivo: "a reserva expirou durante o pagamento; o valor foi estornado",
    INTERROMPIDA.motivo: "a compra foi interrompida e desfeita",
    PAGAMENTO_CONFLITANTE.motivo: "este número de ordem já tem um pagamento feito por fora da compra; nada foi cobrado",
    PAGAMENTO_ESTORNADO.motivo: "o pagamento desta compra já tinha sido estornado; a compra foi desfeita",
}
DESCRICAO_DA_FALHA = {"indisponivel": "está indisponível", "timeout": "não respondeu a tempo",
                      "resposta_invalida": "deu uma resposta inválida"}


def mensagem_de_erro(motivo: str | None) -> str:
    if motivo in MENSAGENS:
        return MENSAGENS[motivo]
    servico, _, tipo = (motivo or "").partition("_")
    if tipo in DESCRICAO_DA_FALHA:
        return f"o serviço {servico} {DESCRICAO_DA_FALHA[tipo]}; a compra foi desfeita"
    return "a compra não pôde ser concluída"
