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

from . import regras, repositorio
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
    """A compra por HTTP: cada passo chama a dependência e espera a resposta; o que ela significa e o
    que vem depois é de `regras.py`, o mesmo para a compra por mensagens (orquestrador.py)."""

    def __init__(self, livros: ClienteLivros, pagamentos: ClientePagamentos):
        self.livros = livros
        self.pagamentos = pagamentos

    def validar_no_catalogo(self, itens: list[dict]) -> None:
        """Passo 2. Nada foi gravado ainda: uma falha aqui não tem o que desfazer."""
        for posicao, item in enumerate(itens):
            try:
                livro = self.livros.buscar_livro(item["livro_id"])
            except FalhaDependencia as falha:
                raise ErroAPI(falha.desfecho.codigo_http, "não foi possível consultar o catálogo de livros",
                              motivo=falha.desfecho.motivo) from falha
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
                    return ordem_id, self.terminar(ordem_id, regras.SEM_ESTOQUE)
                span.set_attributes({"bookstore.reserva.id": reserva["id"],
                                     "bookstore.ordem.total": float(reserva["total"])})
                seguir(repositorio.registrar_reserva(ordem_id, reserva))

            with passo("cobrar", **{"bookstore.ordem.id": ordem_id}) as span:
                try:
                    pagamento = self.pagamentos.cobrar(ordem_id, reserva["total"], pedido.cartao,
                                                       repositorio.chave_de_pagamento(criada))
                except PagamentoDeOutraChamada:
                    span.set_attribute("bookstore.pagamento.conflito", True)
                    return self.compensar(ordem_id, regras.PAGAMENTO_CONFLITANTE, cobranca_incerta_desde=None)
                except FalhaDependencia as falha:
                    span.set_attribute("bookstore.pagamento.incerto", falha.incerta)
                    if not falha.incerta:  # certeza de que nada foi cobrado
                        repositorio.registrar(ordem_id, cobranca_incerta_desde=None)
                    raise
                span.set_attributes({"bookstore.pagamento.id": pagamento["id"],
                                     "bookstore.pagamento.status": pagamento["status"],
                                     "bookstore.pagamento.motivo": pagamento["motivo"] or ""})
            resolvida = {"pagamento_id": pagamento["id"], "cobranca_incerta_desde": None}
            desfecho = regras.desfecho_da_cobranca(pagamento)
            if desfecho:
                # A resposta e a decisão de desfazer numa escrita só: um worker que morra aqui não
                # deixa a recuperação sem saber que o cartão foi recusado.
                return self.compensar(ordem_id, desfecho, **resolvida)
            seguir(repositorio.mudar_status(ordem_id, "pagamento_aprovado", **resolvida))

            try:
                with passo("confirmar_reserva", **{"bookstore.ordem.id": ordem_id,
                                                   "bookstore.reserva.id": reserva["id"]}):
                    self.livros.confirmar(reserva["id"])
            except ReservaExpirada:
                return self.compensar(ordem_id, regras.RESERVA_EXPIRADA)
            if not repositorio.finalizar(ordem_id, regras.CONCLUIDA):
                return ordem_id, self.codigo_gravado(ordem_id)
            return ordem_id, regras.CONCLUIDA.codigo_http
        except FalhaDependencia as falha:
            logger.warning("ordem %s: %s; desfazendo a compra", ordem_id, falha)
            return self.compensar(ordem_id, falha.desfecho, cartao=pedido.cartao)
        except SagaAssumida:
            # A recuperação decidiu desfazer esta ordem (achou-a parada tempo demais):
            # a saga não avança mais; ajuda a terminar o mesmo desfazer (idempotente).
            logger.warning("ordem %s: a recuperação assumiu a ordem; a compra não segue", ordem_id)
            return ordem_id, self.terminar_de_desfazer(ordem_id, pedido.cartao)

    def compensar(self, ordem_id: int, desfecho: regras.Desfecho, cartao: str | None = None,
                  **campos) -> tuple[int, int]:
        # Grava a intenção antes de agir: é o que a recuperação lê se não terminarmos. Se não gravou,
        # outra decisão veio antes (ou a ordem já terminou): o desfazer a seguir vale para ela.
        repositorio.decidir_desfazer(ordem_id, desfecho, **campos)
        return ordem_id, self.terminar_de_desfazer(ordem_id, cartao)

    def terminar(self, ordem_id: int, desfecho: regras.Desfecho, **campos) -> int:
        """Grava o status final e devolve o código HTTP dele — ou, se outra passada terminou a ordem
        antes, o que ela gravou (uma ordem final não muda mais)."""
        if repositorio.finalizar(ordem_id, desfecho, **campos):
            return desfecho.codigo_http
        return self.codigo_gravado(ordem_id)

    @staticmethod
    def codigo_gravado(ordem_id: int, ordem: dict | None = None) -> int:
        """Outra passada levou a ordem a um status final: conta o que ela diz."""
        ordem = ordem or repositorio.buscar(ordem_id)
        logger.info("ordem %s já estava terminada como %s (motivo %s); nada mudou",
                    ordem_id, ordem["status"], ordem["motivo"])
        return ordem["codigo_http"] or regras.CODIGO_SEM_DESFECHO

    def terminar_de_desfazer(self, ordem_id: int, cartao: str | None = None) -> int:
        """O desfazer inteiro de uma ordem com `desfazer_para` gravado: um passo de `regras` por vez,
        até o desfecho. Devolve o status HTTP. `cartao` só existe na requisição original (nunca é
        gravado); a recuperação chama sem ele."""
        ordem = repositorio.buscar(ordem_id)
        if ordem["status"] not in repositorio.EM_ANDAMENTO:
            return self.codigo_gravado(ordem_id, ordem)
        if ordem["desfazer_para"] is None:
            logger.info("ordem %s segue em %s: a saga voltou a andar, nada a desfazer", ordem_id, ordem["status"])
            return regras.CODIGO_SEM_DESFECHO
        with passo("compensar", **{"bookstore.ordem.id": ordem_id,
                                   "bookstore.ordem.desfecho": ordem["desfazer_para"],
                                   "bookstore.ordem.motivo": ordem["motivo"] or ""}) as span:
            feitos, recusado = set(), None
            try:
                while (proximo := regras.proximo_passo_do_desfazer(ordem, feitos)) != regras.TERMINAR:
                    if proximo == regras.CANCELAR_RESERVA:
                        self._cancelar_reservas(ordem)
                    else:
                        recusado = self._estornar(ordem, cartao)
                    feitos.add(proximo)
            except ReservaJaConfirmada:
                logger.warning("ordem %s: reserva já confirmada em livros; ordem concluída", ordem_id)
                return self.terminar(ordem_id, regras.CONCLUIDA)
            except (FalhaDependencia, CompensacaoAdiada) as falha:
                logger.warning("ordem %s: compensação pendente (%s); a recuperação termina depois", ordem_id, falha)
                span.record_exception(falha)
                span.set_status(Status(StatusCode.ERROR, "compensação pendente"))
                span.set_attribute("bookstore.compensacao.pendente", True)
                return ordem["codigo_http"]
            desfecho = regras.desfecho_do_desfazer(ordem, recusado, resposta_pendente=cartao is not None)
            logger.info("ordem %s: compensação concluída → %s", ordem_id, desfecho.status)
            return self.terminar(ordem_id, desfecho, **({"pagamento_id": recusado["id"]} if recusado else {}))

    def _cancelar_reservas(self, ordem: dict) -> None:
        if ordem["reserva_id"]:
            self.livros.cancelar(ordem["reserva_id"])
        elif ordem["status"] == "criada":
            # O POST /reservas pode ter reservado e estourado o timeout antes de
            # responder. (Se a reserva chegar depois desta busca, o TTL a devolve.)
            for reserva in self.livros.reservas_da_ordem(ordem["id"]):
                if reserva["status"] == "ativa":
                    self.livros.cancelar(reserva["id"])

    def _estornar(self, ordem: dict, cartao: str | None) -> dict | None:
        """Estorna o que foi cobrado. Devolve o pagamento recusado, se a cobrança incerta se revelou
        uma recusa."""
        if ordem["status"] == "pagamento_aprovado":
            self.pagamentos.estornar(ordem["pagamento_id"])
            return None
        pagamentos = self._resolver_cobranca_incerta(ordem, cartao)
        for pagamento in pagamentos:
            if pagamento["status"] == "aprovado":
                self.pagamentos.estornar(pagamento["id"])
        return next((p for p in pagamentos if p["status"] == "recusado"), None)

    def _resolver_cobranca_incerta(self, ordem: dict, cartao: str | None) -> list[dict]:
        """O POST /pagamentos não teve resposta: a cobrança pode ter acontecido, ou ainda estar a
        caminho (presa num worker lento de pagamentos). Devolve os pagamentos desta ordem."""
        if cartao:
            # Repetir a cobrança é seguro porque pagamentos é idempotente por ordem_id: ou devolve a
            # que já existe, ou a cria agora — e a que estava a caminho, ao chegar, encontra esta e
            # não cobra de novo. Assim o desfecho fica decidido.
            try:
                return [self.pagamentos.cobrar(ordem["id"], ordem["total"], cartao,
                                               repositorio.chave_de_pagamento(ordem))]
            except PagamentoDeOutraChamada:
                return []  # o ordem_id é de um pagamento de fora: o desta ordem nunca existiu
        pagamentos = self.pagamentos.pagamentos_da_ordem(ordem["id"], repositorio.chave_de_pagamento(ordem))
        if not pagamentos and ordem["cobranca_ainda_pode_chegar"]:
            # Sem o cartão não dá para fixar o desfecho; esperamos passar o
            # tempo em que uma cobrança atrasada ainda poderia chegar.
            raise CompensacaoAdiada("a cobrança ainda pode estar a caminho")
        return pagamentos


class CompensacaoAdiada(Exception):
    pass


class SagaAssumida(Exception):
    """A escrita da saga não pegou a ordem: a recuperação decidiu desfazê-la antes."""


def seguir(gravou: bool) -> None:
    if not gravou:
        raise SagaAssumida()
