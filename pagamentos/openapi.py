"""OpenAPI do serviço pagamentos (servido em GET /openapi.json; navegável em /docs)."""
from bookstore.openapi import (BANCO_FORA, CORPO_GRANDE, JSON_MALFORMADO, MAIOR_INTEIRO, MAIOR_VALOR, PAGINACAO,
                               corpo, documento, erro, invalido, nao_encontrado, parametro_id, ref, regras_do_contrato,
                               resposta)
from bookstore.validacao import TAMANHO_MAXIMO_DA_CHAVE

PAGAMENTO = {"id": 3, "ordem_id": 7, "valor": 79.80, "status": "aprovado", "motivo": None, "cartao_final": "1111"}

ESQUEMAS = {
    "NovoPagamento": {
        "type": "object", "required": ["ordem_id", "valor", "cartao"],
        "properties": {
            "ordem_id": {"type": "integer", "minimum": 1, "maximum": MAIOR_INTEIRO,
                         "description": "um pagamento por ordem: repetir o POST devolve o mesmo, sem cobrar"},
            "valor": {"type": "number", "exclusiveMinimum": 0, "maximum": MAIOR_VALOR, "multipleOf": 0.01},
            "cartao": {"type": "string", "pattern": "^[0-9]{13,19}$",
                       "description": "13–19 dígitos com dígito verificador (Luhn) válido. Final 0002 é recusado; "
                                      "só os 4 últimos dígitos são guardados."},
        },
    },
    "Pagamento": {
        "type": "object", "required": ["id", "ordem_id", "valor", "status", "motivo", "cartao_final"],
        "properties": {
            "id": {"type": "integer"}, "ordem_id": {"type": "integer"}, "valor": {"type": "number"},
            "status": {"type": "string", "enum": ["aprovado", "recusado", "estornado"]},
            "motivo": {"type": ["string", "null"], "enum": ["cartao_recusado", "limite_excedido", None]},
            "cartao_final": {"type": "string", "pattern": "^[0-9]{4}$"},
        },
    },
}

PAGAMENTO_404 = nao_encontrado("o pagamento", {"erro": "pagamento não encontrado", "pagamento_id": 9999})

CAMINHOS = {
    "/pagamentos": {
        "post": {"tags": ["pagamentos"], "summary": "Cobra uma ordem (idempotente por ordem_id)",
                 "description": "Recusar é um resultado de negócio, não um erro HTTP: 201 com status `recusado`. "
                                "Acima de PAGAMENTO_LIMITE (5000.00) é recusado com motivo `limite_excedido`. "
                                "Com `Idempotency-Key` (a saga de ordens manda uma por ordem), a repetição precisa "
                                "da mesma chave: um pagamento feito com outra chave (ou sem) para o mesmo "
                                "ordem_id é outra cobrança, e a resposta é 409."
                                + regras_do_contrato("o `cartao` passa no dígito verificador (Luhn)"),
                 "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                                 "description": "de 1 a 200 caracteres; quem cobrou esta ordem",
                                 "schema": {"type": "string", "minLength": 1, "maxLength": TAMANHO_MAXIMO_DA_CHAVE,
                                            "pattern": "\\S"}}],
                 "requestBody": corpo(ref("NovoPagamento"), {"ordem_id": 7, "valor": 79.80,
                                                             "cartao": "4111111111111111"}),
                 "responses": {
                     "201": resposta("cobrado (aprovado ou recusado)", ref("Pagamento"), PAGAMENTO, location=True),
                     "200": resposta("repetição: o pagamento que já existia, nada cobrado", ref("Pagamento"),
                                     PAGAMENTO),
                     "400": JSON_MALFORMADO,
                     "409": erro("a ordem já tem um pagamento com outro valor (ou feito com outra Idempotency-Key)",
                                 {"erro": "já existe um pagamento com outro valor para esta ordem",
                                  "pagamento_id": 3, "valor": 79.80}),
                     "413": CORPO_GRANDE,
                     "422": invalido("cartao", "número de cartão inválido (falha no dígito verificador)"),
                     "503": BANCO_FORA}},
        "get": {"tags": ["pagamentos"], "summary": "Os pagamentos (de uma ordem, com ?ordem_id=)",
                "parameters": [*PAGINACAO, {"name": "ordem_id", "in": "query", "required": False,
                                            "schema": {"type": "integer", "minimum": 1, "maximum": MAIOR_INTEIRO}},
                               {"name": "chave", "in": "query", "required": False,
                                "description": "com ordem_id: só o pagamento feito com esta Idempotency-Key",
                                "schema": {"type": "string", "minLength": 1, "maxLength": TAMANHO_MAXIMO_DA_CHAVE,
                                           "pattern": "\\S"}}],
                "responses": {"200": resposta("os pagamentos", {"type": "array", "items": ref("Pagamento")},
                                              [PAGAMENTO]),
                              "422": invalido("ordem_id", "deve ser um inteiro positivo"), "503": BANCO_FORA}},
    },
    "/pagamentos/{pagamento_id}": {
        "get": {"tags": ["pagamentos"], "summary": "Um pagamento",
                "parameters": [parametro_id("pagamento_id", "o id do pagamento")],
                "responses": {"200": resposta("o pagamento", ref("Pagamento"), PAGAMENTO), "404": PAGAMENTO_404,
                              "503": BANCO_FORA}},
    },
    "/pagamentos/{pagamento_id}/estorno": {
        "post": {"tags": ["pagamentos"], "summary": "Estorna (idempotente)",
                 "parameters": [parametro_id("pagamento_id", "o id do pagamento")],
                 "responses": {"200": resposta("estornado", ref("Pagamento"), {**PAGAMENTO, "status": "estornado"}),
                               "404": PAGAMENTO_404,
                               "409": erro("um pagamento recusado não tem o que estornar",
                                           {"erro": "pagamento recusado não pode ser estornado", "pagamento_id": 3}),
                               "503": BANCO_FORA}},
    },
}


def gerar() -> dict:
    return documento("pagamentos", "Cobranças e estornos. Porta 8083.", CAMINHOS, ESQUEMAS)
