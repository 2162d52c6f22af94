"""Catálogo: `POST /livros`, `GET /livros`, `GET /livros/<id>`."""
from flask import Blueprint, jsonify

from bookstore import db, respostas, validacao
from bookstore.erros import NaoEncontrado

bp = Blueprint("catalogo", __name__, url_prefix="/livros")


def buscar_livro(cursor, livro_id: int) -> dict | None:
    return cursor.execute(
        "SELECT id, titulo, autor, preco, estoque FROM livros_disponiveis WHERE id = %s", (livro_id,)
    ).fetchone()


@bp.post("")
def criar():
    dados = validacao.corpo_json()
    titulo = validacao.texto(dados, "titulo")
    autor = validacao.texto(dados, "autor", obrigatorio=False)
    preco = validacao.dinheiro(dados, "preco")
    estoque = validacao.inteiro(dados, "estoque", minimo=0)
    with db.transacao() as cursor:
        livro = cursor.execute(
            "INSERT INTO livros (titulo, autor, preco, estoque_fisico) VALUES (%s, %s, %s, %s)"
            " RETURNING id, titulo, autor, preco, estoque_fisico AS estoque",
            (titulo, autor, preco, estoque),
        ).fetchone()
    return respostas.com_location(livro, 201, "catalogo.detalhe", livro_id=livro["id"])


@bp.get("")
def listar():
    limite, offset = validacao.paginacao()
    with db.transacao() as cursor:
        livros = cursor.execute(
            "SELECT id, titulo, autor, preco, estoque FROM livros_disponiveis"
            " ORDER BY id LIMIT %s OFFSET %s",
            (limite, offset),
        ).fetchall()
    return jsonify(livros)


@bp.get("/<int:livro_id>")
def detalhe(livro_id: int):
    with db.transacao() as cursor:
        livro = buscar_livro(cursor, livro_id)
    if livro is None:
        raise NaoEncontrado("livro não encontrado", livro_id=livro_id)
    return jsonify(livro)
