"""A compra por mensagens (ORDENS_SAGA=mensagens): a mesma saga de ordens/saga.py, movida por eventos.

O que é igual à saga HTTP: a validação no catálogo (passos 1–2, por HTTP, antes de gravar, de
saga.py), os desfechos e o desfazer (regras.py: o que cada resposta significa e o próximo passo),
e as escritas condicionais do repositório — que decidem a corrida entre a saga e a recuperação do
mesmo jeito. O que muda é o transporte: em vez de chamar e esperar, ordens grava o próximo comando
na outbox, na transação do passo, e segue quando o evento chega.

    POST /ordens       criada + livros.reservar                        → 202 (uma transação)
    estoque_reservado  estoque_reservado + pagamentos.cobrar           (estoque_indisponivel: 409)
    pagamento          pagamento_aprovado + livros.confirmar           (recusado: desfaz, 402)
    reserva_confirmada concluida (201)                                 (expirada: desfaz e estorna, 409)
    falha              desfaz, falhou, <serviço>_indisponivel (503)

Desfazer também é por mensagens, um passo por resposta (`avancar_desfazer`), na ordem de
`regras.proximo_passo_do_desfazer`: livros.cancelar, pagamentos.estornar, o status final. Não há timeout por
passo: uma dependência lenta só faz a ordem esperar na fila; parada há mais de
ORDENS_ABANDONO_SEGUNDOS, a recuperação (recuperacao.py, a mesma da saga HTTP) a desfaz.
"""
import logging

from flask import current_app
from opentelemetry import trace

from bookstore import cartao, db, mensagens

from . import regras, repositorio
from .saga import Pedido, Saga, passo

logger = logging.getLogger(__name__)

# O comando que leva cada passo do desfazer ao serviço que o faz.
COMANDO_DO_DESFAZER = {regras.CANCELAR_RESERVA: "livros.cancelar", regras.ESTORNAR: "pagamentos.estornar"}


class SagaPorMensagens:
    """Tem a interface que rotas.py e recuperacao.py usam da `Saga`: `comprar` e `terminar_de_desfazer`."""

    codigo_da_resposta = 202

    def __init__(self, saga_http: Saga):
        self.http = saga_http  # a validação no catálogo é a mesma (e é HTTP nos dois modos)

    # --- a requisição ---------------------------------------------------------------------------
    def comprar(self, pedido: Pedido) -> tuple[int, int] | None:
        with passo("validar_catalogo", **{"bookstore.livro.ids": [i["livro_id"] for i in pedido.itens]}):
            self.http.validar_no_catalogo(pedido.itens)
        # Só pagamentos abre o selo: nem a tabela, nem a outbox, nem a fila guardam o número legível.
        selado = cartao.selar(pedido.cartao, current_app.config["CARTAO_CHAVE_PUBLICA"])
        # A ordem, o cartão e o primeiro comando num commit só: ou a compra existe e vai andar,
        # ou nada foi gravado. A requisição nunca fala com o broker (bookstore/mensageria).
        with db.transacao():
            criada = repositorio.criar(pedido.cliente, pedido.itens, pedido.idempotency_key, pedido.corpo_hash)
            if criada is None:
                return None
            ordem_id = criada["id"]
            repositorio.guardar_cartao(ordem_id, selado)
            mensagens.enviar("livros.reservar", ordem_id, itens=pedido.itens)
        trace.get_current_span().set_attribute("bookstore.ordem.id", ordem_id)
        return ordem_id, self.codigo_da_resposta

    # --- os eventos (ordens/mensagens.py chama um destes por mensagem, na transação da inbox) ------
    def estoque_reservado(self, ordem_id: int, reserva: dict) -> None:
        if not repositorio.registrar_reserva(ordem_id, reserva):
            # A ordem foi desfeita antes (a recuperação): o desfazer cancela as reservas DA ORDEM em
            # livros, esta inclusive, e nenhuma cobrança sai.
            logger.info("ordem %s: reserva %s chegou com a ordem já sendo desfeita", ordem_id, reserva["id"])
            return
        selado = repositorio.tirar_cartao(ordem_id)
        ordem = repositorio.buscar(ordem_id)
        mensagens.enviar("pagamentos.cobrar", ordem_id, valor=reserva["total"], cartao_selado=selado,
                         chave=repositorio.chave_de_pagamento(ordem))

    def estoque_indisponivel(self, ordem_id: int) -> None:
        self.terminar(ordem_id, regras.SEM_ESTOQUE)

    def pagamento(self, ordem_id: int, pagamento: dict) -> None:
        resolvida = {"pagamento_id": pagamento["id"], "cobranca_incerta_desde": None}
        desfecho = regras.desfecho_da_cobranca(pagamento)
        if desfecho:
            return self.decidir_desfazer(ordem_id, desfecho, **resolvida)
        if repositorio.mudar_status(ordem_id, "pagamento_aprovado", **resolvida):
            ordem = repositorio.buscar(ordem_id)
            mensagens.enviar("livros.confirmar", ordem_id, reserva_id=ordem["reserva_id"])
        else:  # desfeita no meio: a cobrança incerta que o desfazer estorna é esta
            logger.info("ordem %s: pagamento aprovado chegou com a ordem já sendo desfeita", ordem_id)

    def pagamento_conflitante(self, ordem_id: int) -> None:
        self.decidir_desfazer(ordem_id, regras.PAGAMENTO_CONFLITANTE, cobranca_incerta_desde=None)

    def reserva_confirmada(self, ordem_id: int) -> None:
        self.terminar(ordem_id, regras.CONCLUIDA)

    def reserva_expirada(self, ordem_id: int) -> None:
        self.decidir_desfazer(ordem_id, regras.RESERVA_EXPIRADA)

    def falha(self, ordem_id: int, motivo: str, comando: str) -> None:
        """A dependência falhou (a falha injetada, uma resposta que ordens não esperava): como um 5xx
        na saga HTTP. Um comando que falhou não fez nada (a transação dele foi a da resposta)."""
        campos = {"cobranca_incerta_desde": None} if comando == "pagamentos.cobrar" else {}
        logger.warning("ordem %s: %s respondeu falha (%s); desfazendo a compra", ordem_id, comando, motivo)
        self.decidir_desfazer(ordem_id, regras.desfecho_do_motivo_de_falha(motivo), **campos)

    def reserva_cancelada(self, ordem_id: int) -> None:
        if repositorio.marcar_desfeito(ordem_id, regras.CANCELAR_RESERVA):
            self.avancar_desfazer(ordem_id)

    def reserva_ja_confirmada(self, ordem_id: int) -> None:
        # A confirmação chegou a livros antes do desfazer: a venda aconteceu (regras.py, o desfazer).
        if self.terminar(ordem_id, regras.CONCLUIDA):
            logger.warning("ordem %s: reserva já confirmada em livros; ordem concluída", ordem_id)

    def estorno_concluido(self, ordem_id: int, pagamentos: list[dict]) -> None:
        if repositorio.marcar_desfeito(ordem_id, regras.ESTORNAR):
            recusado = next((p for p in pagamentos if p["status"] == "recusado"), None)
            self.avancar_desfazer(ordem_id, recusado)

    def cobranca_cancelada(self, ordem_id: int) -> None:
        logger.info("ordem %s: a cobrança chegou depois do estorno e não foi feita", ordem_id)

    # --- terminar e desfazer ----------------------------------------------------------------------
    @staticmethod
    def terminar(ordem_id: int, desfecho: regras.Desfecho, **campos) -> bool:
        """O status final; o cartão, se ainda estiver guardado, sai junto."""
        if not repositorio.finalizar(ordem_id, desfecho, **campos):
            return False
        repositorio.tirar_cartao(ordem_id)
        return True

    def decidir_desfazer(self, ordem_id: int, desfecho: regras.Desfecho, **campos) -> None:
        # A mesma escrita da saga HTTP (a decisão da recuperação, INTERROMPIDA, cede à de quem sabe).
        repositorio.decidir_desfazer(ordem_id, desfecho, **campos)
        self.avancar_desfazer(ordem_id)

    def avancar_desfazer(self, ordem_id: int, recusado: dict | None = None) -> None:
        """O próximo passo do desfazer (regras.proximo_passo_do_desfazer): o comando dele, ou o status final."""
        ordem = repositorio.buscar(ordem_id)
        if ordem is None or ordem["status"] not in repositorio.EM_ANDAMENTO or ordem["desfazer_para"] is None:
            return
        proximo = regras.proximo_passo_do_desfazer(ordem, repositorio.passos_desfeitos(ordem_id))
        if proximo == regras.CANCELAR_RESERVA:
            return self._enviar_desfazer(ordem_id, proximo)
        if proximo == regras.ESTORNAR:
            return self._enviar_desfazer(ordem_id, proximo, chave=repositorio.chave_de_pagamento(ordem))
        # O cliente já recebeu o 202: nenhuma resposta espera por este desfecho.
        desfecho = regras.desfecho_do_desfazer(ordem, recusado, resposta_pendente=False)
        if self.terminar(ordem_id, desfecho, **({"pagamento_id": recusado["id"]} if recusado else {})):
            logger.info("ordem %s: compensação concluída → %s", ordem_id, desfecho.status)

    def terminar_de_desfazer(self, ordem_id: int, cartao: str | None = None) -> int | None:
        """A recuperação (recuperacao.py) passa por aqui: o passo do desfazer que ainda não saiu, ou
        que saiu e não teve resposta em ORDENS_ABANDONO_SEGUNDOS, vai de novo (os comandos de desfazer
        são idempotentes). A conferência e o envio numa transação: duas passadas não enviam o mesmo."""
        with db.transacao():
            if repositorio.desfazer_parado(ordem_id, current_app.config["ORDENS_ABANDONO_SEGUNDOS"]):
                self.avancar_desfazer(ordem_id)
        ordem = repositorio.buscar(ordem_id)
        return ordem["codigo_http"] if ordem else None

    @staticmethod
    def _enviar_desfazer(ordem_id: int, passo_do_desfazer: str, **campos) -> None:
        repositorio.marcar_desfazer_enviado(ordem_id)
        mensagens.enviar(COMANDO_DO_DESFAZER[passo_do_desfazer], ordem_id, **campos)
