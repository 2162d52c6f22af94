"""OpenAPI do serviço ordens (servido em GET /openapi.json; navegável em /docs)."""
from bookstore.openapi import (BANCO_FORA, CORPO_GRANDE, JSON_MALFORMADO, MAIOR_INTEIRO, PAGINACAO,
                               PAGINACAO_INVALIDA, corpo, documento, erro, invalido, nao_encontrado, parametro_id,
                               ref, regras_do_contrato, resposta)

STATUS = ["criada", "estoque_reservado", "pagamento_aprovado", "concluida", "estoque_indisponivel",
          "pagamento_recusado", "falhou"]
ORDEM = {"id": 7, "status": "concluida", "motivo": None, "cliente": "Ana",
         "itens": [{"livro_id": 1, "quantidade": 2, "preco_unitario": 39.90}], "total": 79.80,
         "reserva_id": "0b5f3c1e-8a1d-4c6e-9f3a-2d7b1e4c5a60", "pagamento_id": 3,
         "historico": [{"status": s, "em": "2026-11-24T10:00:00.120000+00:00"}
                       for s in ("criada", "estoque_reservado", "pagamento_aprovado", "concluida")]}
RECUSADA = {**ORDEM, "status": "pagamento_recusado", "motivo": "cartao_recusado",
            "erro": "pagamento recusado pelo emissor do cartão"}

ESQUEMAS = {
    "NovaOrdem": {
        "type": "object", "required": ["itens"],
        "properties": {
            "itens": {"type": "array", "minItems": 1, "maxItems": 50, "description": "um livro aparece uma vez só",
                      "items": {"type": "object", "required": ["livro_id", "quantidade"],
                                "properties": {"livro_id": {"type": "integer", "minimum": 1, "maximum": MAIOR_INTEIRO},
                                               "quantidade": {"type": "integer", "minimum": 1, "maximum": 1000}}}},
            "cliente": {"type": ["string", "null"], "minLength": 1, "maxLength": 100, "pattern": "\\S",
                        "description": "não só espaços (para nenhum, omita ou use null); sem NUL (\\u0000)"},
            "cartao": {"type": ["string", "null"], "pattern": "^[0-9]{13,19}$",
                       "description": "padrão 4111111111111111 (aprovado); final 0002 é recusado"},
        },
    },
    "Ordem": {
        "type": "object",
        "required": ["id", "status", "motivo", "cliente", "itens", "total", "reserva_id", "pagamento_id", "historico"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": STATUS},
            "motivo": {"type": ["string", "null"],
                       "description": "por que não concluiu: estoque_insuficiente, cartao_recusado, "
                                      "limite_excedido, reserva_expirada, interrompida, pagamento_conflitante, "
                                      "pagamento_estornado, <serviço>_indisponivel, <serviço>_timeout, "
                                      "<serviço>_resposta_invalida"},
            "cliente": {"type": ["string", "null"]},
            "itens": {"type": "array", "items": {
                "type": "object", "required": ["livro_id", "quantidade", "preco_unitario"],
                "properties": {"livro_id": {"type": "integer"}, "quantidade": {"type": "integer"},
                               "preco_unitario": {"type": ["number", "null"]}}}},
            "total": {"type": ["number", "null"]},
            "reserva_id": {"type": ["string", "null"], "format": "uuid"},
            "pagamento_id": {"type": ["integer", "null"]},
            "historico": {"type": "array", "items": {
                "type": "object", "required": ["status", "em"],
                "properties": {"status": {"type": "string", "enum": STATUS},
                               "em": {"type": "string", "format": "date-time"}}}},
        },
    },
    "OrdemComErro": {"allOf": [ref("Ordem"), {"type": "object", "required": ["erro"],
                                              "properties": {"erro": {"type": "string"}}}]},
}


def _desfecho(descricao: str, exemplo: dict) -> dict:
    return resposta(descricao, ref("OrdemComErro"), exemplo, location=True)


CAMINHOS = {
    "/ordens": {
        "post": {
            "tags": ["ordens"], "summary": "Compra: a saga ordens → livros → pagamentos → livros",
            "description": "Cada passo é gravado antes do próximo. Com o cabeçalho Idempotency-Key, repetir "
                           "com o mesmo corpo devolve a primeira resposta, sem comprar de novo."
                           + regras_do_contrato("todo livro de `itens` existe no catálogo de livros",
                                                "um livro aparece uma vez só em `itens` (livro repetido)",
                                                "o `cartao` passa no dígito verificador (Luhn)",
                                                "uma Idempotency-Key já usada vem com o mesmo corpo"),
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                            "description": "de 1 a 200 caracteres",
                            "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
            "requestBody": corpo(ref("NovaOrdem"), {"itens": [{"livro_id": 1, "quantidade": 2}], "cliente": "Ana"}),
            "responses": {
                "201": resposta("concluída", ref("Ordem"), ORDEM, location=True),
                "202": resposta("aceita, com ORDENS_SAGA=mensagens: a compra segue pelas filas do RabbitMQ; "
                                "acompanhe em GET /ordens/{id} até um status final", ref("Ordem"),
                                {**ORDEM, "status": "criada", "total": None, "reserva_id": None,
                                 "pagamento_id": None, "historico": ORDEM["historico"][:1],
                                 "itens": [{**item, "preco_unitario": None} for item in ORDEM["itens"]]},
                                location=True),
                "400": JSON_MALFORMADO,
                "402": _desfecho("pagamento recusado; a reserva foi cancelada", RECUSADA),
                "409": resposta("sem estoque (ou a reserva expirou enquanto pagava: estornado; ou o número da "
                                "ordem já tinha um pagamento feito por fora: nada cobrado); ou a compra com "
                                "esta Idempotency-Key ainda está em andamento",
                                {"anyOf": [ref("OrdemComErro"), ref("Erro")]},
                                {**ORDEM, "status": "estoque_indisponivel", "motivo": "estoque_insuficiente",
                                 "erro": "estoque insuficiente para concluir a compra"}, location=True),
                "413": CORPO_GRANDE,
                "422": invalido("itens[0].livro_id", "o livro 9999 não existe no catálogo"),
                "502": erro("uma dependência deu uma resposta inesperada; a compra foi desfeita",
                                 {**ORDEM, "status": "falhou", "motivo": "livros_resposta_invalida",
                                  "erro": "o serviço livros deu uma resposta inválida; a compra foi desfeita"}),
                "503": erro("uma dependência (ou o banco) está fora do ar; o que foi feito é desfeito",
                            {"erro": "o serviço pagamentos está indisponível; a compra foi desfeita",
                             "status": "falhou", "motivo": "pagamentos_indisponivel"}),
                "504": erro("uma dependência não respondeu a tempo; a compra foi desfeita",
                                 {**ORDEM, "status": "falhou", "motivo": "pagamentos_timeout",
                                  "erro": "o serviço pagamentos não respondeu a tempo; a compra foi desfeita"}),
            }},
        "get": {"tags": ["ordens"], "summary": "As ordens, mais novas primeiro", "parameters": PAGINACAO,
                "responses": {"200": resposta("as ordens", {"type": "array", "items": ref("Ordem")}, [ORDEM]),
                              "422": PAGINACAO_INVALIDA, "503": BANCO_FORA}},
    },
    "/ordens/{ordem_id}": {
        "get": {"tags": ["ordens"], "summary": "Uma ordem, com o histórico de status",
                "parameters": [parametro_id("ordem_id", "o id da ordem")],
                "responses": {"200": resposta("a ordem", ref("Ordem"), ORDEM),
                              "404": nao_encontrado("a ordem", {"erro": "ordem não encontrada", "ordem_id": 9999}),
                              "503": BANCO_FORA}},
    },
}

ADMIN = {
    "/admin/recuperacao": {
        "post": {"tags": ["admin"], "summary": "Roda agora uma passada da recuperação de compensações",
                 "responses": {"200": resposta("quantas ordens chegaram a um status final",
                                               {"type": "object", "required": ["ordens_resolvidas"],
                                                "properties": {"ordens_resolvidas": {"type": "integer"}}},
                                               {"ordens_resolvidas": 0}),
                               "503": BANCO_FORA}},
    },
}


def gerar() -> dict:
    return documento("ordens", "Ordens de compra; orquestra a compra (saga). Porta 8082.", CAMINHOS, ESQUEMAS,
                     admin=ADMIN)
