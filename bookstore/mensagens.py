"""O contrato das mensagens da compra (ORDENS_SAGA=mensagens): cada comando e cada evento, uma vez.

A routing key é `<serviço que recebe>.<o quê>`. Comandos pedem ("reserve"), eventos contam
("reservei"): só o orquestrador (ordens) manda comandos, e é só a ele que os eventos interessam — a
saga é orquestrada, como a HTTP. Toda mensagem é da conversa de uma ordem: o corpo leva o
`ordem_id`, e o correlation_id é ela.

Quem usa esta tabela:
- quem manda, por `enviar(routing_key, ordem_id, **campos)`: confere a routing key, os campos e se o
  serviço que manda é um dos remetentes;
- quem recebe, por `tratadores(servico, {routing_key: função})`: confere que o serviço trata
  exatamente as mensagens que recebe — nem uma a menos (ficaria na fila), nem uma a mais;
- as filas (`filas_do_laboratorio`) e o relay (`filas_em_que_publica`), na biblioteca genérica
  `bookstore/mensageria/`, que não conhece serviço nenhum pelo nome;
- os usuários do broker (`usuarios_do_broker`): cada serviço publica só as routing keys que manda, e o
  consumidor recusa a mensagem cujo remetente (`user_id`) não é um dos `quem_manda` dela;
- a tabela do README, impressa por `python -m bookstore.mensagens` (um teste confere que são iguais).
"""
import sys
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from bookstore import topologia
from bookstore.mensageria import acessos, outbox
from bookstore.mensageria.consumidor import Tratadores

ORQUESTRADOR = "ordens"


@dataclass(frozen=True)
class Mensagem:
    routing_key: str
    campos: tuple[str, ...]       # o corpo, além do ordem_id
    quem_manda: tuple[str, ...]
    significado: str
    opcionais: tuple[str, ...] = ()  # campos que podem vir (o detalhe de um 409)

    @property
    def quem_recebe(self) -> str:
        return self.routing_key.split(".", 1)[0]

    @property
    def tipo(self) -> str:
        return "evento" if self.quem_recebe == ORQUESTRADOR else "comando"


_LIVROS, _PAGAMENTOS, _ORDENS = ("livros",), ("pagamentos",), (ORQUESTRADOR,)
MENSAGENS = {mensagem.routing_key: mensagem for mensagem in (
    Mensagem("livros.reservar", ("itens",), _ORDENS, "reserve os itens da ordem por RESERVA_TTL_SEGUNDOS"),
    Mensagem("livros.confirmar", ("reserva_id",), _ORDENS, "a venda aconteceu: confirme a reserva"),
    Mensagem("livros.cancelar", (), _ORDENS, "desfaça a ordem: cancele as reservas ativas dela (e as que chegarem)"),
    Mensagem("pagamentos.cobrar", ("valor", "cartao_selado", "chave"), _ORDENS,
             "cobre o valor no cartão (selado: só pagamentos o abre), uma vez por chave"),
    Mensagem("pagamentos.estornar", ("chave",), _ORDENS, "desfaça a cobrança da chave (e a que chegar depois)"),
    Mensagem("ordens.estoque_reservado", ("reserva",), _LIVROS, "reservei: a reserva, com o total"),
    Mensagem("ordens.estoque_indisponivel", (), _LIVROS, "não há estoque para algum item",
             opcionais=("livro_id", "disponivel")),
    Mensagem("ordens.reserva_confirmada", (), _LIVROS, "confirmei a reserva: a venda está feita"),
    Mensagem("ordens.reserva_expirada", (), _LIVROS, "a reserva venceu antes da confirmação"),
    Mensagem("ordens.reserva_cancelada", (), _LIVROS, "cancelei as reservas da ordem"),
    Mensagem("ordens.reserva_ja_confirmada", (), _LIVROS, "não cancelei: a reserva já estava confirmada"),
    Mensagem("ordens.pagamento", ("pagamento",), _PAGAMENTOS, "cobrei: o pagamento, aprovado ou recusado"),
    Mensagem("ordens.pagamento_conflitante", (), _PAGAMENTOS, "a ordem já tem um pagamento feito por fora da saga"),
    Mensagem("ordens.cobranca_cancelada", (), _PAGAMENTOS, "não cobrei: a cobrança já tinha sido desfeita"),
    Mensagem("ordens.estorno_concluido", ("pagamentos",), _PAGAMENTOS, "estornei: os pagamentos da chave"),
    Mensagem("ordens.falha", ("motivo", "comando"), (*_LIVROS, *_PAGAMENTOS),
             "o comando falhou sem efeito (uma falha injetada, uma resposta inesperada): o 5xx da saga HTTP"),
)}


class ForaDoContrato(ValueError):
    """Uma mensagem que o contrato não prevê: um defeito de quem a manda, visto no teste, não na fila."""


def _conferir(mensagem: Mensagem, campos: dict) -> None:
    recebidos, pedidos = set(campos), set(mensagem.campos)
    if not pedidos <= recebidos <= pedidos | set(mensagem.opcionais):
        raise ForaDoContrato(f"{mensagem.routing_key} leva {sorted(pedidos)} além do ordem_id, "
                             f"não {sorted(recebidos)}")


def enviar(routing_key: str, ordem_id: int, **campos):
    """Grava a mensagem na outbox, na transação de quem chama (ver bookstore/mensageria/outbox.py)."""
    mensagem = MENSAGENS.get(routing_key)
    if mensagem is None:
        raise ForaDoContrato(f"{routing_key!r} não está no contrato das mensagens")
    if current_app.import_name not in mensagem.quem_manda:
        raise ForaDoContrato(f"{current_app.import_name} não manda {routing_key} (quem manda: "
                             f"{', '.join(mensagem.quem_manda)})")
    _conferir(mensagem, campos)
    return outbox.enviar(routing_key, {"ordem_id": ordem_id, **campos}, conversa=ordem_id)


def responder_falha(comando: str, corpo: dict, motivo: str) -> None:
    """A resposta de um comando que falhou por uma falha injetada (o 500 da saga HTTP)."""
    enviar("ordens.falha", corpo["ordem_id"], motivo=motivo, comando=comando)


def recebidas_por(servico: str) -> list[Mensagem]:
    return [mensagem for mensagem in MENSAGENS.values() if mensagem.quem_recebe == servico]


def tratadores(servico: str, por_routing_key: dict[str, Callable[[dict], None]]) -> Tratadores:
    """O que `servico` faz com cada mensagem da fila dele. Quem recebe comandos responde com
    `ordens.falha` a uma falha injetada; o orquestrador não tem o que injetar (as falhas de ordens
    valem no POST /ordens, como na saga HTTP)."""
    previstas = {mensagem.routing_key for mensagem in recebidas_por(servico)}
    if set(por_routing_key) != previstas:
        raise ForaDoContrato(f"{servico} recebe {sorted(previstas)}; os tratadores são {sorted(por_routing_key)}")
    remetentes = {routing_key: MENSAGENS[routing_key].quem_manda for routing_key in previstas}
    return Tratadores(por_routing_key, remetentes, None if servico == ORQUESTRADOR else responder_falha)


def fila_de(servico: str) -> str:
    """A fila do que `servico` recebe: `ordens.eventos`, `livros.comandos`, `pagamentos.comandos`."""
    return f"{servico}.{'eventos' if servico == ORQUESTRADOR else 'comandos'}"


def filas_do_laboratorio() -> dict[str, str]:
    """{fila: o padrão de routing key ligado a ela}: tudo que chega a um serviço cai na fila dele."""
    return {fila_de(servico): f"{servico}.*" for servico in topologia.SERVICOS}


def filas_em_que_publica(servico: str) -> list[str]:
    """As filas de quem recebe o que `servico` manda (o relay dele mede a profundidade delas)."""
    destinos = {m.quem_recebe for m in MENSAGENS.values() if servico in m.quem_manda}
    return [fila_de(destino) for destino in topologia.SERVICOS if destino in destinos]


def usuarios_do_broker() -> list[acessos.Usuario]:
    """Um usuário do broker por serviço: consome a fila dele e publica só o que ele manda."""
    return [acessos.Usuario(servico, fila_de(servico),
                            tuple(m.routing_key for m in MENSAGENS.values() if servico in m.quem_manda))
            for servico in topologia.SERVICOS]


def tabela_markdown() -> str:
    linhas = ["| routing key | tipo | quem manda → quem recebe (fila) | corpo | o que diz |", "|---|---|---|---|---|"]
    for m in MENSAGENS.values():
        corpo = ", ".join(["ordem_id", *m.campos, *(f"{campo}?" for campo in m.opcionais)])
        linhas.append(f"| `{m.routing_key}` | {m.tipo} | {', '.join(m.quem_manda)} → {m.quem_recebe} "
                      f"(`{fila_de(m.quem_recebe)}`) | `{{{corpo}}}` | {m.significado} |")
    return "\n".join(linhas)


if __name__ == "__main__":
    sys.stdout.write(tabela_markdown() + "\n")
