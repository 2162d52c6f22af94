"""Clientes HTTP de livros e pagamentos, com timeout em toda chamada.

Toda falha de dependência vira `FalhaDependencia`, com o desfecho que ela dá à ordem
(o motivo e o status HTTP vêm de `regras.dependencia_falhou`):
- conexão recusada ou resposta 5xx → `<servico>_indisponivel`;
- timeout (conectar ou ler)         → `<servico>_timeout`;
- resposta inesperada ou não-JSON   → `<servico>_resposta_invalida`.
"""
import threading

import requests
import simplejson
import urllib3

from . import regras

# Conectar nunca deve demorar: do contrário, o serviço está fora do ar.
TIMEOUT_CONEXAO_SEGUNDOS = 2.0


class FalhaDependencia(Exception):
    """`incerta`: o pedido pode ter sido executado do outro lado (timeout de
    leitura, conexão caída depois de enviar). Uma recusa de conexão ou uma
    resposta 5xx não são incertas: nossos serviços são transacionais e fazem
    rollback antes de responder com erro."""

    def __init__(self, servico: str, tipo: str, detalhe: str, incerta: bool = False):
        super().__init__(f"{servico}: {detalhe}")
        self.servico = servico
        self.desfecho = regras.dependencia_falhou(servico, tipo)
        self.incerta = incerta

    @property
    def motivo(self) -> str:
        """O que o span do passo diz no status (saga.passo)."""
        return self.desfecho.motivo


class ClienteHTTP:
    def __init__(self, servico: str, url_base: str, timeout_leitura: float):
        self.servico = servico
        self.url_base = url_base.rstrip("/")
        self.timeout = (min(TIMEOUT_CONEXAO_SEGUNDOS, timeout_leitura), timeout_leitura)
        # Uma Session (e seu pool de conexões keep-alive) por thread: a
        # recuperação roda numa thread própria, e Session não é thread-safe.
        self._local = threading.local()

    def _sessao(self) -> requests.Session:
        if not hasattr(self._local, "sessao"):
            self._local.sessao = requests.Session()
        return self._local.sessao

    def chamar(self, metodo: str, caminho: str, esperados: tuple[int, ...], **kwargs) -> tuple[int, object]:
        """Faz a chamada e devolve (status, corpo JSON) se o status for um dos esperados."""
        try:
            resposta = self._sessao().request(metodo, self.url_base + caminho, timeout=self.timeout, **kwargs)
        except requests.ConnectTimeout as erro:
            raise FalhaDependencia(self.servico, "timeout", "não conectou a tempo") from erro
        except requests.Timeout as erro:
            raise FalhaDependencia(self.servico, "timeout", f"sem resposta em {self.timeout[1]}s",
                                   incerta=True) from erro
        except requests.ConnectionError as erro:
            causa = getattr(erro.args[0], "reason", None) if erro.args else None
            nunca_conectou = isinstance(causa, urllib3.exceptions.NewConnectionError)
            raise FalhaDependencia(self.servico, "indisponivel", "conexão recusada ou interrompida",
                                   incerta=not nunca_conectou) from erro
        if resposta.status_code >= 500:
            raise FalhaDependencia(self.servico, "indisponivel", f"respondeu {resposta.status_code}")
        if resposta.status_code not in esperados:
            raise FalhaDependencia(self.servico, "resposta_invalida", f"status inesperado {resposta.status_code}")
        try:
            return resposta.status_code, simplejson.loads(resposta.content, use_decimal=True)
        except ValueError as erro:
            raise FalhaDependencia(self.servico, "resposta_invalida", "corpo não é JSON") from erro


class EstoqueIndisponivel(Exception):
    def __init__(self, corpo: dict):
        super().__init__(corpo.get("erro"))
        self.corpo = corpo


class ReservaExpirada(Exception):
    pass


class ReservaJaConfirmada(Exception):
    pass


class ClienteLivros(ClienteHTTP):
    def buscar_livro(self, livro_id: int) -> dict | None:
        status, corpo = self.chamar("GET", f"/livros/{livro_id}", (200, 404))
        return corpo if status == 200 else None

    def reservar(self, itens: list[dict], ordem_id: int) -> dict:
        status, corpo = self.chamar("POST", "/reservas", (201, 409),
                                    json={"itens": itens, "ordem_id": ordem_id})
        if status == 409:
            raise EstoqueIndisponivel(corpo)
        return corpo

    def confirmar(self, reserva_id: str) -> dict:
        status, corpo = self.chamar("POST", f"/reservas/{reserva_id}/confirmacao", (200, 410))
        if status == 410:
            raise ReservaExpirada()
        return corpo

    def cancelar(self, reserva_id: str) -> None:
        status, _ = self.chamar("POST", f"/reservas/{reserva_id}/cancelamento", (200, 404, 409))
        if status == 409:
            raise ReservaJaConfirmada()

    def reservas_da_ordem(self, ordem_id: int) -> list[dict]:
        return self.chamar("GET", f"/reservas?ordem_id={ordem_id}", (200,))[1]


class PagamentoDeOutraChamada(Exception):
    """pagamentos já tem um pagamento para este ordem_id, feito com outra Idempotency-Key (409)."""


class ClientePagamentos(ClienteHTTP):
    def cobrar(self, ordem_id: int, valor, cartao: str, chave: str) -> dict:
        status, corpo = self.chamar("POST", "/pagamentos", (200, 201, 409),
                                    data=simplejson.dumps({"ordem_id": ordem_id, "valor": valor, "cartao": cartao},
                                                          use_decimal=True),
                                    headers={"Content-Type": "application/json", "Idempotency-Key": chave})
        if status == 409:
            raise PagamentoDeOutraChamada(corpo.get("erro"))
        return corpo

    def estornar(self, pagamento_id: int) -> None:
        self.chamar("POST", f"/pagamentos/{pagamento_id}/estorno", (200, 404, 409))

    def pagamentos_da_ordem(self, ordem_id: int, chave: str) -> list[dict]:
        """Só os desta ordem de verdade (a chave da saga), nunca um feito por fora para o mesmo id."""
        return self.chamar("GET", "/pagamentos", (200,), params={"ordem_id": ordem_id, "chave": chave})[1]
