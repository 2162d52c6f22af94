"""OpenAPI do serviço livros (servido em GET /openapi.json; navegável em /docs)."""
from bookstore.openapi import (BANCO_FORA, CORPO_GRANDE, JSON_MALFORMADO, MAIOR_INTEIRO, MAIOR_VALOR, PAGINACAO,
                               PAGINACAO_INVALIDA, corpo, documento, erro, invalido, nao_encontrado, parametro_id,
                               ref, regras_do_contrato, resposta)

LIVRO = {"id": 1, "titulo": "Dom Casmurro", "autor": "Machado de Assis", "preco": 39.90, "estoque": 10}
RESERVA = {"id": "0b5f3c1e-8a1d-4c6e-9f3a-2d7b1e4c5a60", "status": "ativa", "ordem_id": 7,
           "expira_em": "2026-11-24T10:30:00+00:00",
           "itens": [{"livro_id": 1, "quantidade": 2, "preco_unitario": 39.90}], "total": 79.80}
TEXTO = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S",
         "description": "até 200 caracteres, não só espaços; sem NUL (\\u0000), que o PostgreSQL não guarda"}

ESQUEMAS = {
    "Livro": {
        "type": "object", "required": ["id", "titulo", "autor", "preco", "estoque"],
        "properties": {
            "id": {"type": "integer"}, "titulo": {"type": "string"}, "autor": {"type": ["string", "null"]},
            "preco": {"type": "number", "minimum": 0},
            "estoque": {"type": "integer", "description": "o que ainda pode ser vendido (sem o que está reservado)"},
        },
    },
    "NovoLivro": {
        "type": "object", "required": ["titulo", "preco", "estoque"],
        "properties": {
            "titulo": TEXTO, "autor": {**TEXTO, "type": ["string", "null"]},
            "preco": {"type": "number", "minimum": 0, "maximum": MAIOR_VALOR, "multipleOf": 0.01,
                      "description": "dinheiro exato: no máximo duas casas (39.9 e 39.90 valem)"},
            "estoque": {"type": "integer", "minimum": 0, "maximum": MAIOR_INTEIRO},
        },
    },
    "ItemPedido": {
        "type": "object", "required": ["livro_id", "quantidade"],
        "properties": {"livro_id": {"type": "integer", "minimum": 1, "maximum": MAIOR_INTEIRO},
                       "quantidade": {"type": "integer", "minimum": 1, "maximum": 1000}},
    },
    "NovaReserva": {
        "type": "object", "required": ["itens"],
        "properties": {
            "itens": {"type": "array", "minItems": 1, "maxItems": 50, "items": ref("ItemPedido"),
                      "description": "tudo ou nada; um livro aparece uma vez só"},
            "ordem_id": {"type": ["integer", "null"], "minimum": 1, "maximum": MAIOR_INTEIRO},
        },
    },
    "Reserva": {
        "type": "object", "required": ["id", "status", "ordem_id", "expira_em", "itens", "total"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["ativa", "confirmada", "cancelada", "expirada"]},
            "ordem_id": {"type": ["integer", "null"]},
            "expira_em": {"type": "string", "format": "date-time"},
            "itens": {"type": "array", "items": {
                "type": "object", "required": ["livro_id", "quantidade", "preco_unitario"],
                "properties": {"livro_id": {"type": "integer"}, "quantidade": {"type": "integer"},
                               "preco_unitario": {"type": "number"}}}},
            "total": {"type": "number"},
        },
    },
}

RESERVA_ID = {"name": "reserva_id", "in": "path", "required": True, "description": "o id (UUID) da reserva",
              "schema": {"type": "string", "format": "uuid"}}
RESERVA_404 = nao_encontrado("a reserva", {"erro": "reserva não encontrada", "reserva_id": RESERVA["id"]})
LIVRO_404 = nao_encontrado("o livro", {"erro": "livro não encontrado", "livro_id": 9999})

CAMINHOS = {
    "/livros": {
        "get": {"tags": ["catálogo"], "summary": "O catálogo, por id", "parameters": PAGINACAO,
                "responses": {"200": resposta("os livros", {"type": "array", "items": ref("Livro")}, [LIVRO]),
                              "422": PAGINACAO_INVALIDA, "503": BANCO_FORA}},
        "post": {"tags": ["catálogo"], "summary": "Cadastra um livro",
                 "requestBody": corpo(ref("NovoLivro"), {"titulo": "Dom Casmurro", "autor": "Machado de Assis",
                                                         "preco": 39.90, "estoque": 10}),
                 "responses": {"201": resposta("cadastrado", ref("Livro"), LIVRO, location=True),
                               "400": JSON_MALFORMADO, "413": CORPO_GRANDE,
                               "422": invalido("preco", "deve ter no máximo duas casas decimais"),
                               "503": BANCO_FORA}},
    },
    "/livros/{livro_id}": {
        "get": {"tags": ["catálogo"], "summary": "Um livro",
                "parameters": [parametro_id("livro_id", "o id do livro")],
                "responses": {"200": resposta("o livro", ref("Livro"), LIVRO), "404": LIVRO_404,
                              "503": BANCO_FORA}},
    },
    "/reservas": {
        "post": {"tags": ["reservas"], "summary": "Reserva estoque, tudo ou nada",
                 "description": "Os preços são os de livros. A reserva vive RESERVA_TTL_SEGUNDOS (30 min); "
                                "depois disso conta como `expirada` e o estoque volta à venda."
                                + regras_do_contrato("um livro aparece uma vez só em `itens` (livro repetido)"),
                 "requestBody": corpo(ref("NovaReserva"), {"itens": [{"livro_id": 1, "quantidade": 2}],
                                                           "ordem_id": 7}),
                 "responses": {
                     "201": resposta("reservado", ref("Reserva"), RESERVA, location=True),
                     "400": JSON_MALFORMADO,
                     "404": erro("um dos livros não existe (nada reservado)",
                                 {"erro": "livro não encontrado", "livro_id": 9999}),
                     "409": erro("falta estoque de um dos livros (nada reservado)",
                                 {"erro": "estoque insuficiente para o livro 10", "livro_id": 10, "disponivel": 1}),
                     "413": CORPO_GRANDE,
                     "422": invalido("itens[0].quantidade", "deve ser maior ou igual a 1"), "503": BANCO_FORA}},
        "get": {"tags": ["reservas"], "summary": "As reservas de uma ordem",
                "description": "Usado por ordens para desfazer uma reserva cuja criação estourou o timeout.",
                "parameters": [{"name": "ordem_id", "in": "query", "required": True,
                                "schema": {"type": "integer", "minimum": 1, "maximum": MAIOR_INTEIRO}}],
                "responses": {"200": resposta("as reservas", {"type": "array", "items": ref("Reserva")}, [RESERVA]),
                              "422": invalido("ordem_id", "informe ?ordem_id= com um inteiro positivo"),
                              "503": BANCO_FORA}},
    },
    "/reservas/{reserva_id}": {
        "get": {"tags": ["reservas"], "summary": "Uma reserva", "parameters": [RESERVA_ID],
                "responses": {"200": resposta("a reserva", ref("Reserva"), RESERVA), "404": RESERVA_404,
                              "503": BANCO_FORA}},
    },
    "/reservas/{reserva_id}/confirmacao": {
        "post": {"tags": ["reservas"], "summary": "Confirma a venda (idempotente)", "parameters": [RESERVA_ID],
                 "responses": {
                     "200": resposta("confirmada", ref("Reserva"), {**RESERVA, "status": "confirmada"}),
                     "404": RESERVA_404,
                     "409": erro("a reserva foi cancelada", {"erro": "reserva cancelada não pode ser confirmada"}),
                     "410": erro("a reserva expirou; o estoque já voltou à venda",
                                 {"erro": "reserva expirada: o estoque já voltou à venda"}),
                     "503": BANCO_FORA}},
    },
    "/reservas/{reserva_id}/cancelamento": {
        "post": {"tags": ["reservas"], "summary": "Cancela e devolve o estoque uma vez só (idempotente)",
                 "parameters": [RESERVA_ID],
                 "responses": {
                     "200": resposta("cancelada", ref("Reserva"), {**RESERVA, "status": "cancelada"}),
                     "404": RESERVA_404,
                     "409": erro("a reserva já foi confirmada", {"erro": "reserva confirmada não pode ser cancelada"}),
                     "503": BANCO_FORA}},
    },
}


def gerar() -> dict:
    return documento("livros", "Catálogo, estoque e reservas de estoque. Porta 8081.", CAMINHOS, ESQUEMAS)
