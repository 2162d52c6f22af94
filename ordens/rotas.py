"""Ordens: `POST /ordens` (a compra), consulta e lista."""
import hashlib

import simplejson
from flask import Blueprint, current_app, jsonify
from opentelemetry import trace

from bookstore import cartao, respostas, validacao
from bookstore.erros import ErroAPI, NaoEncontrado

from . import recuperacao, repositorio
from .regras import mensagem_de_erro
from .saga import Pedido

bp = Blueprint("ordens", __name__, url_prefix="/ordens")
admin = Blueprint("admin_ordens", __name__, url_prefix="/admin")

# Cartão de teste que o emissor simulado aprova.
CARTAO_PADRAO = "4111111111111111"


def responder(ordem: dict, codigo_http: int):
    ordem_id = ordem["id"]
    trace.get_current_span().set_attributes({"bookstore.ordem.id": ordem_id,
                                             "bookstore.ordem.status": ordem["status"]})
    corpo = repositorio.como_json(ordem)
    if codigo_http >= 400:
        corpo = {"erro": mensagem_de_erro(ordem["motivo"]), **corpo}
    return respostas.com_location(corpo, codigo_http, "ordens.detalhe", ordem_id=ordem_id)


def impressao_digital(itens: list[dict], cliente: str | None, numero_cartao: str) -> str:
    """Hash do corpo para comparar repetições. O cartão entra só pelos 4 últimos
    dígitos: um hash do número inteiro seria reversível por força bruta."""
    canonico = simplejson.dumps({"itens": itens, "cliente": cliente, "cartao_final": cartao.final(numero_cartao)},
                                sort_keys=True)
    return hashlib.sha256(canonico.encode()).hexdigest()


def repetir(ordem: dict, corpo_hash: str):
    """Uma repetição com a mesma Idempotency-Key: a primeira resposta, sem novo efeito."""
    if ordem["corpo_hash"] != corpo_hash:
        raise ErroAPI(422, "esta Idempotency-Key já foi usada com outro corpo", campo="Idempotency-Key")
    if current_app.config["ORDENS_SAGA"] == "mensagens":
        return responder(ordem, 202)  # a primeira resposta foi o 202, qualquer que seja o status agora
    if ordem["codigo_http"] is None:
        raise ErroAPI(409, "a compra com esta Idempotency-Key ainda está em andamento", ordem_id=ordem["id"])
    return responder(ordem, ordem["codigo_http"])


@bp.post("")
def comprar():
    dados = validacao.corpo_json()
    itens = validacao.itens_de_compra(dados)
    cliente = validacao.texto(dados, "cliente", obrigatorio=False, maximo=100)
    numero_cartao = cartao.validar(dados) if dados.get("cartao") is not None else CARTAO_PADRAO
    chave = validacao.idempotency_key()
    corpo_hash = None
    if chave is not None:
        corpo_hash = impressao_digital(itens, cliente, numero_cartao)
        existente = repositorio.buscar_por_chave(chave)
        if existente:
            return repetir(existente, corpo_hash)

    saga = current_app.extensions["ordens.saga"]
    resultado = saga.comprar(Pedido(itens, cliente, numero_cartao, chave, corpo_hash))
    if resultado is None:  # outra requisição com a mesma chave chegou primeiro
        return repetir(repositorio.buscar_por_chave(chave), corpo_hash)
    ordem_id, codigo_http = resultado
    return responder(repositorio.buscar(ordem_id), codigo_http)


@bp.get("")
def listar():
    limite, offset = validacao.paginacao()
    return jsonify([repositorio.como_json(ordem) for ordem in repositorio.listar(limite, offset)])


@bp.get("/<int:ordem_id>")
def detalhe(ordem_id: int):
    ordem = repositorio.buscar(ordem_id)
    if ordem is None:
        raise NaoEncontrado("ordem não encontrada", ordem_id=ordem_id)
    return jsonify(repositorio.como_json(ordem))


@admin.post("/recuperacao")
def recuperar_agora():
    """Roda uma passada de recuperação já (para instrutores e testes)."""
    return jsonify({"ordens_resolvidas": recuperacao.executar_passada(current_app._get_current_object())})
