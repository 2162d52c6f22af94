"""Injeção de falhas: latência e erros artificiais nos endpoints de negócio.

Duas fontes, as duas só com ADMIN_HABILITADO=true (o laboratório liga):

- global: `PUT /admin/falhas {"latencia_ms", "taxa_erro"}` grava a configuração no
  banco do serviço; cada requisição de negócio a relê (uma linha, por chave
  primária), então vale já na próxima requisição, em qualquer worker ou réplica;
- por requisição, no baggage W3C: `baggage: bookstore.falha=pagamentos:latencia_ms=300`
  faz ESTA compra — e só ela — esperar 300 ms em pagamentos. O baggage viaja com o
  contexto (a instrumentação do requests o injeta nas chamadas de ordens), então
  cada serviço no caminho lê a parte que é dele. Formato: `<serviço>:latencia_ms=<n>`
  ou `<serviço>:erro`, vários separados por `|` (`livros:latencia_ms=200|pagamentos:erro`).
  Reproduz uma compra lenta ou com erro sem estragar as dos colegas de turma.
"""
import logging
import random
import time
from decimal import Decimal

from flask import Blueprint, current_app, jsonify, request
from opentelemetry import baggage, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import Status, StatusCode

from . import db, validacao
from .erros import ErroAPI, EntradaInvalida

logger = logging.getLogger(__name__)
bp = Blueprint("admin", __name__, url_prefix="/admin")

# Endpoints que nunca sofrem falha injetada: saúde e a própria administração.
BLUEPRINTS_ISENTOS = ("saude", "admin", "openapi", "swagger_ui")  # "admin", "admin_ordens"


class FalhaInjetada(ErroAPI):
    def __init__(self):
        super().__init__(500, "falha injetada")


def configuracao_atual() -> dict:
    # A consulta é maquinaria do laboratório, não do negócio: fica fora dos traces.
    with suppress_instrumentation(), db.transacao() as cursor:
        linha = cursor.execute("SELECT latencia_ms, taxa_erro FROM falhas WHERE id = 1").fetchone()
    if linha is None:
        return {
            "latencia_ms": current_app.config["FALHA_LATENCIA_MS"],
            "taxa_erro": current_app.config["FALHA_TAXA_ERRO"],
        }
    return {"latencia_ms": linha["latencia_ms"], "taxa_erro": linha["taxa_erro"]}


CHAVE_DO_BAGGAGE = "bookstore.falha"
# O teto da latência injetada, pelo admin ou pelo baggage.
MAIOR_LATENCIA_MS = 60_000


def falha_no_baggage(servico: str) -> dict:
    """A falha que a requisição carrega no baggage para `servico`: {"latencia_ms", "erro"}.
    O que não se entende é ignorado com uma linha de log (o baggage vem de fora; não pode
    derrubar nada — `latencia_ms=²` passa no isdigit() e quebraria o int(): seria um 500)."""
    falha = {"latencia_ms": 0, "erro": False}
    for pedaco in str(baggage.get_baggage(CHAVE_DO_BAGGAGE) or "").split("|"):
        alvo, _, acao = (parte.strip() for parte in pedaco.partition(":"))
        if alvo != servico:
            continue
        nome, _, valor = acao.partition("=")
        if acao == "erro":
            falha["erro"] = True
        elif nome == "latencia_ms" and valor.isascii() and valor.isdigit():
            falha["latencia_ms"] = min(int(valor), MAIOR_LATENCIA_MS)
        else:
            logger.warning("baggage %s ignorado para %s: %r não é `latencia_ms=<n>` nem `erro`",
                           CHAVE_DO_BAGGAGE, servico, acao[:80])
    return falha


def prazo_da_latencia_ms() -> int:
    """Quanto a latência injetada pode segurar uma requisição: um segundo antes do timeout do
    worker (GUNICORN_TIMEOUT). Passar disso mataria o worker no meio (uma página HTML de 500 e a
    requisição perdida); aqui a requisição termina com um 504 em JSON, como uma dependência lenta."""
    return max(0, current_app.config["GUNICORN_TIMEOUT"] * 1000 - 1000)


def aplicar_antes_da_requisicao():
    """`before_request`: atrasa e/ou falha conforme a configuração em vigor e o baggage."""
    if request.endpoint is None or (request.blueprint or "").startswith(BLUEPRINTS_ISENTOS):
        return
    falha = configuracao_atual()
    if current_app.config["ADMIN_HABILITADO"]:
        da_requisicao = falha_no_baggage(current_app.name)
    else:
        da_requisicao = {"latencia_ms": 0, "erro": False}
    span = trace.get_current_span()  # o span de servidor criado pela instrumentação do Flask
    if da_requisicao["latencia_ms"] or da_requisicao["erro"]:
        span.set_attribute("bookstore.falha.origem", "baggage")
    latencia_ms = falha["latencia_ms"] + da_requisicao["latencia_ms"]
    if latencia_ms:
        prazo_ms = prazo_da_latencia_ms()
        span.add_event("bookstore.falha.latencia", {"bookstore.falha.latencia_ms": latencia_ms})
        time.sleep(min(latencia_ms, prazo_ms) / 1000)
        if latencia_ms > prazo_ms:
            erro = ErroAPI(504, f"falha injetada: {latencia_ms} ms de latência passam do prazo do servidor "
                                f"({prazo_ms} ms, GUNICORN_TIMEOUT menos 1 s)", latencia_ms=latencia_ms,
                           prazo_ms=prazo_ms)
            span.set_attribute("bookstore.falha.injetada", True)
            span.set_status(Status(StatusCode.ERROR, "latência injetada acima do prazo"))
            raise erro
    if da_requisicao["erro"] or (falha["taxa_erro"] and random.random() < float(falha["taxa_erro"])):
        # float só para sortear; a taxa guardada continua exata.
        logger.warning("falha injetada em %s %s", request.method, request.path)
        erro = FalhaInjetada()
        span.set_attribute("bookstore.falha.injetada", True)
        span.record_exception(erro)
        span.set_status(Status(StatusCode.ERROR, "falha injetada"))
        raise erro


@bp.get("/falhas")
def ler():
    return jsonify(configuracao_atual())


@bp.put("/falhas")
def alterar():
    dados = validacao.corpo_json()
    latencia_ms = validacao.inteiro(dados, "latencia_ms", minimo=0)
    if latencia_ms > MAIOR_LATENCIA_MS:
        raise EntradaInvalida("latencia_ms", f"deve ser no máximo {MAIOR_LATENCIA_MS}")
    taxa_erro = dados.get("taxa_erro")
    if isinstance(taxa_erro, bool) or not isinstance(taxa_erro, (int, Decimal)):
        raise EntradaInvalida("taxa_erro", "é obrigatório e deve ser um número entre 0 e 1")
    taxa_erro = Decimal(taxa_erro)
    if not taxa_erro.is_finite() or not 0 <= taxa_erro <= 1:
        raise EntradaInvalida("taxa_erro", "deve estar entre 0 e 1")
    if taxa_erro != taxa_erro.quantize(Decimal("0.001")):
        raise EntradaInvalida("taxa_erro", "deve ter no máximo três casas decimais")
    with db.transacao() as cursor:
        cursor.execute(
            """
            INSERT INTO falhas (id, latencia_ms, taxa_erro) VALUES (1, %s, %s)
            ON CONFLICT (id) DO UPDATE
               SET latencia_ms = EXCLUDED.latencia_ms, taxa_erro = EXCLUDED.taxa_erro,
                   alterada_em = now()
            """,
            (latencia_ms, taxa_erro),
        )
    logger.warning("injeção de falhas alterada: latencia_ms=%s taxa_erro=%s", latencia_ms, taxa_erro)
    return jsonify({"latencia_ms": latencia_ms, "taxa_erro": taxa_erro})


def init_app(app) -> None:
    app.before_request(aplicar_antes_da_requisicao)
    if app.config["ADMIN_HABILITADO"]:
        app.register_blueprint(bp)
