"""A compra: saga orquestrada por ordens, síncrona, por HTTP.

    1. valida o corpo                     (400/422, nada gravado)
    2. GET /livros/{id} de cada item      (livro desconhecido: 422, nada gravado)
    3. grava a ordem                      → criada
    4. POST /reservas                     → estoque_reservado   (409: estoque_indisponivel)
    5. POST /pagamentos                   → pagamento_aprovado  (recusado: compensa, 402)
    6. POST /reservas/{id}/confirmacao    → concluida, 201      (410: estorna, falhou, 409)
    7. dependência fora do ar, lenta ou respondendo errado: compensa, falhou, 503/504/502

Compensar = desfazer o que foi feito, na ordem inversa: cancelar a reserva,
estornar o pagamento. A intenção (`desfazer_para`) é gravada ANTES de desfazer:
se o desfazer não alcança a dependência, ou o processo morre no meio, a ordem
fica no passo em que estava e a recuperação (`recuperacao.py`) termina depois.
Cancelar e estornar são idempotentes, então repetir nunca devolve em dobro.
"""
import logging
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from bookstore.erros import ErroAPI, EntradaInvalida

from . import repositorio
from .clientes import (ClienteLivros, ClientePagamentos, EstoqueIndisponivel, FalhaDependencia,
                       PagamentoDeOutraChamada, ReservaExpirada, ReservaJaConfirmada)
from .telemetria import tracer

logger = logging.getLogger(__name__)

# Desfechos de negócio: o passo não "falhou" por causa deles, então o span não
# vira ERROR (a resposta 4xx ao cliente já conta a história).
DESFECHOS_DE_NEGOCIO = (EstoqueIndisponivel, ReservaExpirada, ReservaJaConfirmada, ErroAPI)


@contextmanager
def passo(nome: str, **atributos):
    """Um span por passo da saga, filho do span de servidor de POST /ordens."""
    with tracer.start_as_current_span(f"saga.{nome}", attributes=atributos, record_exception=False,
                                      set_status_on_exception=False) as span:
        try:
            yield span
        except DESFECHOS_DE_NEGOCIO:
            raise
        except Exception as erro:
            span.record_exception(erro)
            span.set_status(Status(StatusCode.ERROR, getattr(erro, "motivo", type(erro).__name__)))
            raise


@dataclass(frozen=True)
class Pedido:
    itens: list[dict]
    cliente: str | None
    cartao: str
    idempotency_key: str | None = None
    corpo_hash: str | None = None


class Saga:
    def __init__(self, livros: ClienteLivros, pagamentos: ClientePagamentos):
        self.livros = livros
        self.pagamentos = pagamentos

    def validar_no_catalogo(self, itens: list[dict]) -> None:
        """Passo 2. Nada foi gravado ainda: uma falha aqui não tem o que desfazer."""
        for posicao, item in enumerate(itens):
            try:
                livro = self.livros.buscar_livro(item["livro_id"])
            except FalhaDependencia as falha:
                raise ErroAPI(falha.http, "não foi possível consultar o catálogo de livros",
                              motivo=falha.motivo) from falha
            if livro is None:
                erro = EntradaInvalida(f"itens[{posicao}].livro_id",
                                       f"o livro {item['livro_id']} não existe no catálogo")
                erro.extras["livro_id"] = item["livro_id"]
                raise erro

    def comprar(self, pedido: Pedido) -> tuple[int, int] | None:
        """Executa a compra. Devolve (ordem_id, status HTTP), ou None se outra
        requisição com a mesma Idempotency-Key gravou a ordem primeiro."""
        with passo("validar_catalogo", **{"bookstore.livro.ids": [i["livro_id"] for i in pedido.itens]}):
            self.validar_no_catalogo(pedido.itens)
        criada = repositorio.criar(pedido.cliente, pedido.itens, pedido.idempotency_key, pedido.corpo_hash)
        if criada is None:
            return None
        ordem_id = criada["id"]
        trace.get_current_span().set_attribute("bookstore.ordem.id", ordem_id)
        try:
            with passo("reservar_estoque", **{"bookstore.ordem.id": ordem_id}) as span:
                try:
                    reserva = self.livros.reservar(pedido.itens, ordem_id)
                except EstoqueIndisponivel:
                    span.set_attribute("bookstore.reserva.resultado", "sem_estoque")
                    repositorio.finalizar(ordem_id, "estoque_indisponivel", motivo="estoque_insuficiente",
                                          codigo_http=409)
                    return ordem_id, 409
                span.set_attributes({"bookstore.reserva.id": reserva["id"],
                                     "bookstore.ordem.total": float(reserva["total"])})
                seguir(repositorio.registrar_reserva(ordem_id, reserva))

            with passo("cobrar", **{"bookstore.ordem.id": ordem_id}) as span:
                try:
                    pagamento = self.pagamentos.cobrar(ordem_id, reserva["total"], pedido.cartao,
                                                       repositorio.chave_de_pagamento(criada))
                except PagamentoDeOutraChamada:
                    # Este ordem_id já tem um pagamento que não é desta ordem (feito à mão, por
                    # fora da saga): nada desta ordem foi cobrado, e o de lá não é tocado.
                    span.set_attribute("bookstore.pagamento.conflito", True)
                    return self.compensar(ordem_id, "falhou", "pagamento_conflitante", 409,
                                          cobranca_incerta_desde=None)
                except FalhaDependencia as falha:
                    span.set_attribute("bookstore.pagamento.incerto", falha.incerta)
                    if not falha.incerta:  # certeza de que nada foi cobrado
                        repositorio.registrar(ordem_id, cobranca_incerta_desde=None)
                    raise
                span.set_attributes({"bookstore.pagamento.id": pagamento["id"],
                                     "bookstore.pagamento.status": pagamento["status"],
                                     "bookstore.pagamento.motivo": pagamento["motivo"] or ""})
            if pagamento["status"] == "recusado":
                # A recusa e a decisão de desfazer numa escrita só: um worker que morra
                # aqui não deixa a recuperação sem saber que o cartão foi recusado.
                return self.compensar(ordem_id, "pagamento_recusado", pagamento["motivo"], 402,
                                      pagamento_id=pagamento["id"], cobranca_incerta_desde=None)
            if pagamento["status"] != "aprovado":
                # Já estornado: outra passada desta ordem desfez a cobrança. Nunca "recusado"
                # sem motivo: a ordem conta o que aconteceu.
                return self.compensar(ordem_id, "falhou", "pagamento_estornado", 409,
                                      pagamento_id=pagamento["id"], cobranca_incerta_desde=None)
            seguir(repositorio.mudar_status(ordem_id, "pagamento_aprovado", pagamento_id=pagamento["id"],
                                            cobranca_incerta_desde=None))

            try:
                with passo("confirmar_reserva", **{"bookstore.ordem.id": ordem_id,
                                                   "bookstore.reserva.id": reserva["id"]}):
                    self.livros.confirmar(reserva["id"])
            except ReservaExpirada:
                return self.compensar(ordem_id, "falhou", "reserva_expirada", 409)
            if not repositorio.finalizar(ordem_id, "concluida", codigo_http=201):
                return ordem_id, self.ja_terminada(ordem_id)
            return ordem_id, 201
        except FalhaDependencia as falha:
            logger.warning("ordem %s: %s; desfazendo a compra", ordem_id, falha)
            return self.compensar(ordem_id, "falhou", falha.motivo, falha.http, pedido.cartao)
        except SagaAssumida:
            # A recuperação decidiu desfazer esta ordem (achou-a parada tempo demais):
            # a saga não avança mais; ajuda a terminar o mesmo desfazer (idempotente).
            logger.warning("ordem %s: a recuperação assumiu a ordem; a compra não segue", ordem_id)
            return ordem_id, self.terminar_de_desfazer(ordem_id, pedido.cartao)

    def compensar(self, ordem_id: int, desfecho: str, motivo: str, codigo_http: int,
                  cartao: str | None = None, **campos) -> tuple[int, int]:
        # Grava a intenção antes de agir: é o que a recuperação lê se não terminarmos.
        # Se não gravou, outra decisão veio antes (ou a ordem já terminou): o
        # desfazer a seguir vale para ela.
        repositorio.decidir_desfazer(ordem_id, desfecho, motivo, codigo_http, **campos)
        return ordem_id, self.terminar_de_desfazer(ordem_id, cartao)

    def ja_terminada(self, ordem_id: int, ordem: dict | None = None) -> int:
        """Outra passada levou a ordem a um status final: conta o que ela diz."""
        ordem = ordem or repositorio.buscar(ordem_id)
        logger.info("ordem %s já estava terminada como %s (motivo %s); nada mudou",
                    ordem_id, ordem["status"], ordem["motivo"])
        return ordem["codigo_http"] or 503

    def terminar_de_desfazer(self, ordem_id: int, cartao: str | None = None) -> int:
        """Desfaz o que a ordem fez e a leva ao desfecho gravado. Devolve o status HTTP.

        `cartao` só existe na requisição original (nunca é gravado); a
        recuperação chama sem ele."""
        ordem = repositorio.buscar(ordem_id)
        if ordem["status"] not in repositorio.EM_ANDAMENTO:
            return self.ja_terminada(ordem_id, ordem)
        if ordem["desfazer_para"] is None:
            logger.info("ordem %s segue em %s: a saga voltou a andar, nada a desfazer", ordem_id, ordem["status"])
            return 503
        with passo("compensar", **{"bookstore.ordem.id": ordem_id,
                                   "bookstore.ordem.desfecho": ordem["desfazer_para"],
                                   "bookstore.ordem.motivo": ordem["motivo"] or ""}) as span:
            return self._terminar_de_desfazer(ordem, cartao, span)

    def _terminar_de_desfazer(self, ordem: dict, cartao: str | None, span) -> int:
        ordem_id = ordem["id"]
        try:
            recusado = self._desfazer(ordem, cartao)
        except ReservaJaConfirmada:
            # A confirmação chegou a livros (a resposta é que se perdeu): a venda
            # aconteceu e o pagamento está aprovado, então a ordem se conclui.
            if not repositorio.finalizar(ordem_id, "concluida", motivo=None, codigo_http=201):
                return self.ja_terminada(ordem_id)
            logger.warning("ordem %s: reserva já confirmada em livros; ordem concluída", ordem_id)
            return 201
        except (FalhaDependencia, CompensacaoAdiada) as falha:
            logger.warning("ordem %s: compensação pendente (%s); a recuperação termina depois", ordem_id, falha)
            span.record_exception(falha)
            span.set_status(Status(StatusCode.ERROR, "compensação pendente"))
            span.set_attribute("bookstore.compensacao.pendente", True)
            return ordem["codigo_http"]
        desfecho = {"status": ordem["desfazer_para"], "codigo_http": ordem["codigo_http"]}
        if recusado and ordem["desfazer_para"] == "falhou":
            # A cobrança incerta se resolveu como recusa: foi isso que aconteceu, e é
            # o que a ordem conta. (Só a requisição original, com o cartão, ainda
            # pode mudar o código da resposta: o cliente não recebeu nenhuma.)
            desfecho = {"status": "pagamento_recusado", "motivo": recusado["motivo"],
                        "pagamento_id": recusado["id"], "codigo_http": 402 if cartao else ordem["codigo_http"]}
        if not repositorio.finalizar(ordem_id, **desfecho):
            return self.ja_terminada(ordem_id)
        logger.info("ordem %s: compensação concluída → %s", ordem_id, desfecho["status"])
        return desfecho["codigo_http"]

    def _desfazer(self, ordem: dict, cartao: str | None) -> dict | None:
        """Cancela a reserva e estorna o que foi cobrado. Devolve o pagamento
        recusado, se a cobrança incerta se revelou uma recusa."""
        # 1. A reserva primeiro: se livros disser que já foi confirmada, a venda
        #    aconteceu e o pagamento NÃO deve ser estornado.
        if ordem["reserva_id"]:
            self.livros.cancelar(ordem["reserva_id"])
        elif ordem["status"] == "criada":
            # O POST /reservas pode ter reservado e estourado o timeout antes de
            # responder. (Se a reserva chegar depois desta busca, o TTL a devolve.)
            for reserva in self.livros.reservas_da_ordem(ordem["id"]):
                if reserva["status"] == "ativa":
                    self.livros.cancelar(reserva["id"])
        # 2. O pagamento.
        if ordem["status"] == "pagamento_aprovado":
            self.pagamentos.estornar(ordem["pagamento_id"])
        elif ordem["cobranca_incerta"]:
            return self._resolver_cobranca_incerta(ordem, cartao)
        return None

    def _resolver_cobranca_incerta(self, ordem: dict, cartao: str | None) -> dict | None:
        """O POST /pagamentos não teve resposta: a cobrança pode ter acontecido,
        ou ainda estar a caminho (presa num worker lento de pagamentos)."""
        if cartao:
            # Repetir a cobrança é seguro porque pagamentos é idempotente por
            # ordem_id: ou devolve a que já existe, ou a cria agora — e a que
            # estava a caminho, ao chegar, encontra esta e não cobra de novo.
            # Assim o desfecho fica decidido, e estornamos o que foi aprovado.
            try:
                pagamentos = [self.pagamentos.cobrar(ordem["id"], ordem["total"], cartao,
                                                     repositorio.chave_de_pagamento(ordem))]
            except PagamentoDeOutraChamada:
                return None  # o ordem_id é de um pagamento de fora: o desta ordem nunca existiu
        else:
            pagamentos = self.pagamentos.pagamentos_da_ordem(ordem["id"], repositorio.chave_de_pagamento(ordem))
            if not pagamentos and ordem["cobranca_ainda_pode_chegar"]:
                # Sem o cartão não dá para fixar o desfecho; esperamos passar o
                # tempo em que uma cobrança atrasada ainda poderia chegar.
                raise CompensacaoAdiada("a cobrança ainda pode estar a caminho")
        for pagamento in pagamentos:
            if pagamento["status"] == "aprovado":
                self.pagamentos.estornar(pagamento["id"])
        return next((p for p in pagamentos if p["status"] == "recusado"), None)


class CompensacaoAdiada(Exception):
    pass


class SagaAssumida(Exception):
    """A escrita da saga não pegou a ordem: a recuperação decidiu desfazê-la antes."""


def seguir(gravou: bool) -> None:
    if not gravou:
        raise SagaAssumida()


# A mensagem (pt-BR) do campo "erro" nas respostas de ordens que não deram certo.
MENSAGENS = {
    "estoque_insuficiente": "estoque insuficiente para concluir a compra",
    "cartao_recusado": "pagamento recusado pelo emissor do cartão",
    "limite_excedido": "pagamento recusado: valor acima do limite",
    "reserva_expirada": "a reserva expirou durante o pagamento; o valor foi estornado",
    "interrompida": "a compra foi interrompida e desfeita",
    "pagamento_conflitante": "este número de ordem já tem um pagamento feito por fora da compra; nada foi cobrado",
    "pagamento_estornado": "o pagamento desta compra já tinha sido estornado; a compra foi desfeita",
}


def mensagem_de_erro(motivo: str | None) -> str:
    if motivo in MENSAGENS:
        return MENSAGENS[motivo]
    servico, _, tipo = (motivo or "").partition("_")
    descricao = {"indisponivel": "está indisponível", "timeout": "não respondeu a tempo",
                 "resposta_invalida": "deu uma resposta inválida"}.get(tipo)
    if descricao:
        return f"o serviço {servico} {descricao}; a compra foi desfeita"
    return "a compra não pôde ser concluída"
