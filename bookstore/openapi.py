"""OpenAPI 3.1 dos serviços: as peças comuns e a rota que serve o documento.

Cada serviço descreve as próprias rotas em `<serviço>/openapi.py` (ao lado das
rotas, para mudar junto); aqui ficam o que os três têm igual — o formato dos
erros, `/health`, `/ready`, `/admin/falhas` — e as rotas `GET /openapi.json`
e `GET /docs` (Swagger UI servido pelo próprio serviço: nenhum CDN, funciona
sem internet, como numa sala de aula).

O documento é conferido com `openapi-spec-validator` e atacado pelo
Schemathesis nos testes: cada resposta precisa estar descrita aqui.
"""
from flask import Blueprint, current_app, jsonify

from . import config, topologia

VERSAO_OPENAPI = "3.1.0"
MAIOR_INTEIRO = 2**31 - 1  # INTEGER do PostgreSQL
MAIOR_VALOR = 9999999999.99  # NUMERIC(12,2)

ESQUEMAS_COMUNS = {
    "Erro": {
        "type": "object", "required": ["erro"],
        "description": "Todo erro é JSON: uma mensagem em pt-BR e, às vezes, campos que ajudam a entender.",
        "properties": {
            "erro": {"type": "string", "description": "o que deu errado, em pt-BR"},
            "campo": {"type": "string", "description": "o campo inválido (nos 422)"},
        },
    },
    "Falhas": {
        "type": "object", "required": ["latencia_ms", "taxa_erro"],
        "properties": {
            "latencia_ms": {"type": "integer", "minimum": 0, "maximum": 60000,
                            "description": "atraso somado a cada requisição de negócio; acima do prazo do "
                                           "servidor (GUNICORN_TIMEOUT menos 1 s) a requisição espera o prazo e "
                                           "responde 504 em JSON"},
            "taxa_erro": {"type": "number", "minimum": 0, "maximum": 1,
                          "description": "fração das requisições de negócio que respondem 500 (até 3 casas)"},
        },
    },
    "Saude": {"type": "object", "required": ["status"],
              "properties": {"status": {"type": "string", "enum": ["ok", "pronto", "indisponivel"]},
                             "erro": {"type": "string"}}},
}


# Regras do contrato que o JSON Schema não exprime: um corpo válido pelo esquema ainda recebe 422
# por elas. Ficam na descrição da operação (e a suíte aceita o 422 do Schemathesis só por elas).
def regras_do_contrato(*regras: str) -> str:
    return " Regras que o esquema não exprime (422, com o campo): " + "; ".join(regras) + "."


def ref(nome: str) -> dict:
    return {"$ref": f"#/components/schemas/{nome}"}


def json(esquema: dict, exemplo=None) -> dict:
    conteudo = {"schema": esquema}
    if exemplo is not None:
        conteudo["example"] = exemplo
    return {"application/json": conteudo}


def resposta(descricao: str, esquema: dict, exemplo=None, location: bool = False) -> dict:
    saida = {"description": descricao, "content": json(esquema, exemplo)}
    if location:
        saida["headers"] = {"Location": {"description": "onde ler o recurso criado", "schema": {"type": "string"}}}
    return saida


def erro(descricao: str, exemplo: dict) -> dict:
    return resposta(descricao, ref("Erro"), exemplo)


BANCO_FORA = erro("o banco de dados do serviço não responde",
                  {"erro": "banco de dados indisponível"})
JSON_MALFORMADO = erro("o corpo não é JSON, é grande demais ou aninhado demais",
                       {"erro": "requisição inválida: o corpo não é um JSON válido"})
CORPO_GRANDE = erro("o corpo passa de 64 KiB", {"erro": "corpo da requisição grande demais"})


def invalido(exemplo_campo: str, mensagem: str) -> dict:
    return erro("o corpo é JSON, mas um campo viola o esquema (nomeado em `campo`)",
                {"erro": f"campo '{exemplo_campo}': {mensagem}", "campo": exemplo_campo})


def nao_encontrado(recurso: str, exemplo: dict) -> dict:
    return erro(f"{recurso} não existe", exemplo)


def corpo(esquema: dict, exemplo: dict) -> dict:
    return {"required": True, "content": json(esquema, exemplo)}


def parametro_id(nome: str, descricao: str) -> dict:
    return {"name": nome, "in": "path", "required": True, "description": descricao,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAIOR_INTEIRO}}


PAGINACAO = [
    {"name": "limite", "in": "query", "required": False, "description": "quantos (padrão 50, máximo 200)",
     "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
    {"name": "offset", "in": "query", "required": False, "description": "quantos pular (padrão 0)",
     "schema": {"type": "integer", "minimum": 0, "maximum": MAIOR_INTEIRO}},
]
PAGINACAO_INVALIDA = invalido("limite", "deve ser no máximo 200")


def _saude() -> dict:
    return {
        "/health": {"get": {
            "tags": ["saúde"], "summary": "O processo está de pé (sem I/O; não gera span)",
            "responses": {"200": resposta("sempre", ref("Saude"), {"status": "ok"})}}},
        "/ready": {"get": {
            "tags": ["saúde"], "summary": "O banco do serviço responde (não gera span)",
            "responses": {"200": resposta("pronto", ref("Saude"), {"status": "pronto"}),
                          "503": resposta("o banco não responde", ref("Saude"),
                                          {"status": "indisponivel", "erro": "banco de dados não responde"})}}},
    }


def _admin() -> dict:
    descricao = ("Injeção de falhas para os exercícios: vale para as rotas de negócio deste serviço "
                 "(não para saúde nem admin), em todos os workers, na próxima requisição. "
                 "Uma falha injetada é um 500 `{\"erro\": \"falha injetada\"}` com span de erro. "
                 "Só existe com ADMIN_HABILITADO=true (o laboratório liga). Para uma falha só numa "
                 "requisição, use o baggage W3C: `baggage: bookstore.falha=pagamentos:latencia_ms=300` "
                 "(ou `<serviço>:erro`), que viaja de ordens até o serviço nomeado; um valor que não se "
                 "entende é ignorado, com uma linha no log.")
    return {"/admin/falhas": {
        "get": {"tags": ["admin"], "summary": "A falha injetada agora", "description": descricao,
                "responses": {"200": resposta("a configuração", ref("Falhas"), {"latencia_ms": 0, "taxa_erro": 0}),
                              "503": BANCO_FORA}},
        "put": {"tags": ["admin"], "summary": "Liga ou desliga a falha injetada", "description": descricao,
                "requestBody": corpo(ref("Falhas"), {"latencia_ms": 300, "taxa_erro": 0}),
                "responses": {"200": resposta("a nova configuração", ref("Falhas"),
                                              {"latencia_ms": 300, "taxa_erro": 0}),
                              "400": JSON_MALFORMADO, "413": CORPO_GRANDE,
                              "422": invalido("taxa_erro", "deve estar entre 0 e 1"), "503": BANCO_FORA}},
    }}


# O gunicorn recusa antes do Flask o que passa dos limites dele, em qualquer rota
# (respondido em JSON por bookstore/gunicorn_worker.py).
LIMITES_DO_GUNICORN = {
    "414": erro("a linha da requisição (método + URL) passa de 4094 bytes, o limite do gunicorn",
                {"erro": "linha de requisição longa demais (limite: 4094 bytes)"}),
    "431": erro("um cabeçalho passa de 8190 bytes (ou são mais de 100), os limites do gunicorn",
                {"erro": "cabeçalhos grandes demais (limite: 8190 bytes por cabeçalho, 100 cabeçalhos)"}),
}


# Toda operação que muda estado recusa uma página de outra origem (bookstore/origem.py).
OUTRA_ORIGEM = erro("o cabeçalho Origin é de outra origem (uma página web que não é a deste serviço)",
                    {"erro": "requisição de outra origem recusada: http://exemplo.test não é "
                             f"http://127.0.0.1:{topologia.PROCESSOS['ordens'].porta}", "origem": "http://exemplo.test"})
MUDAM_ESTADO = {"post", "put", "patch", "delete"}


def documento(servico: str, descricao: str, caminhos: dict, esquemas: dict, admin: dict | None = None) -> dict:
    """O documento OpenAPI de um serviço. `admin`: rotas /admin/* além de /admin/falhas."""
    todos = {**caminhos, **_saude()}
    if current_app.config["ADMIN_HABILITADO"]:
        todos.update({**_admin(), **(admin or {})})
    todos = {caminho: {metodo: {**operacao, "responses": {
        **operacao["responses"], **LIMITES_DO_GUNICORN, **({"403": OUTRA_ORIGEM} if metodo in MUDAM_ESTADO else {})}}
        for metodo, operacao in operacoes.items()} for caminho, operacoes in todos.items()}
    return {
        "openapi": VERSAO_OPENAPI,
        "info": {"title": f"Livraria OTel Lab — {servico}", "version": config.VERSAO, "description": descricao},
        "paths": todos,
        "components": {"schemas": {**ESQUEMAS_COMUNS, **esquemas}},
    }


def registrar(app, gerar_documento) -> None:
    """`GET /openapi.json` e `GET /docs` (Swagger UI) no serviço."""
    from flask_swagger_ui import get_swaggerui_blueprint

    bp = Blueprint("openapi", __name__)

    @bp.get("/openapi.json")
    def openapi_json():
        return jsonify(gerar_documento())

    app.register_blueprint(bp)
    app.register_blueprint(get_swaggerui_blueprint("/docs", "/openapi.json", config={"app_name": app.name}),
                           url_prefix="/docs")
