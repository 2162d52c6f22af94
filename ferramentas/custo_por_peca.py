"""Quanto custa cada peça da telemetria, medida isolada dentro de um processo.

O `make bench` mostra o custo total de uma compra; este módulo explica de onde
ele vem. Cada operação roda N vezes num processo com o SDK desligado e noutro
com o SDK do laboratório (o mesmo `bookstore.telemetria.configurar`, exportando
OTLP para o receptor do processo pai). Conta o tempo de CPU do processo
inteiro, até a fila ser esvaziada: entra o span criado na requisição e também
a codificação protobuf e o envio feitos pela thread do lote.

Uso interno: `python -m ferramentas.custo_por_peca <sem|com> <url-do-banco>`
imprime um JSON com microssegundos de CPU por operação.
"""
import json
import logging
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bookstore import config


def _servidor_http_minimo() -> str:
    """Um servidor sem instrumentação, igual nos dois processos, só para o requests ter com quem falar."""
    class Vazio(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Cabeçalho e corpo saem em dois writes: sem isto, Nagle + ACK atrasado
        # somam 40 ms de espera a cada chamada.
        disable_nagle_algorithm = True

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    servidor = ThreadingHTTPServer(("127.0.0.1", 0), Vazio)
    threading.Thread(target=servidor.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{servidor.server_port}/"


def _esvaziar_filas() -> None:
    from opentelemetry import trace
    from opentelemetry._logs import get_logger_provider
    for provider in (trace.get_tracer_provider(), get_logger_provider()):
        if hasattr(provider, "force_flush"):
            provider.force_flush()


def _cpu_por_operacao(operacao, repeticoes: int) -> float:
    for _ in range(200):  # aquecimento
        operacao()
    _esvaziar_filas()
    inicio = time.process_time()
    for _ in range(repeticoes):
        operacao()
    _esvaziar_filas()
    return (time.process_time() - inicio) / repeticoes * 1e6


def medir_neste_processo(url_banco: str) -> dict:
    # As linhas de log em texto vão para /dev/null; o resultado sai pelo stdout original.
    saida_real, sys.stdout = sys.stdout, open(os.devnull, "w")
    import psycopg
    import requests
    from flask import Flask, jsonify
    from opentelemetry import trace

    from bookstore import telemetria

    telemetria.configurar("bench")
    app = Flask("bench")
    telemetria.instrumentar_app(app)  # Flask, requests e psycopg, como nos serviços

    @app.get("/livros/<int:livro_id>")
    def livro(livro_id):
        return jsonify({"id": livro_id})

    cliente_flask = app.test_client()
    sessao = requests.Session()
    url_http = _servidor_http_minimo()
    conexao = psycopg.connect(url_banco, autocommit=True)
    tracer = trace.get_tracer("bench")
    logger = logging.getLogger("bench")

    def span_manual():
        with tracer.start_as_current_span("saga.passo", attributes={"bookstore.ordem.id": 1}) as span:
            span.add_event("bookstore.ordem.transicao", {"bookstore.ordem.status": "criada"})

    operacoes = {
        "span manual (1 atributo, 1 evento)": span_manual,
        "comando SQL (psycopg, span CLIENT)": lambda: conexao.execute("SELECT 1").fetchone(),
        "requisição Flask (span SERVER + métricas)": lambda: cliente_flask.get("/livros/1"),
        "chamada requests (span CLIENT + traceparent)": lambda: sessao.get(url_http, timeout=5),
        "registro de log INFO (stdout + OTLP)": lambda: logger.info("ordem %s → %s", 1, "criada"),
    }
    # O menor de três blocos: numa máquina virtual, a CPU roubada por vizinhos só
    # aumenta o tempo medido, então o mínimo é a estimativa mais fiel do custo.
    repeticoes = config.ler("BENCH_REPETICOES")
    resultado = {nome: min(_cpu_por_operacao(operacao, repeticoes) for _ in range(3))
                 for nome, operacao in operacoes.items()}
    telemetria.encerrar()
    sys.stdout = saida_real
    return resultado


def medir(modo: str, url_banco: str, ambiente_otel: dict) -> dict:
    """Roda a medição num processo novo: os providers globais só se definem uma vez por processo."""
    ambiente = {**os.environ, **ambiente_otel, "OTEL_SDK_DISABLED": "true" if modo == "sem" else "false",
                "LOG_LEVEL": "INFO"}
    processo = subprocess.run([sys.executable, "-m", "ferramentas.custo_por_peca", modo, url_banco],
                              env=ambiente, capture_output=True, text=True, check=True)
    return json.loads(processo.stdout)


def imprimir(sem: dict, com: dict, por_compra: dict, cpu_da_compra_ms: float) -> None:
    print(f"{'custo unitário (µs de CPU)':46}{'desligado':>10}{'ligado':>10}{'custo':>8}{'por compra':>12}")
    total = 0.0
    for nome in sem:
        custo = com[nome] - sem[nome]
        vezes = por_compra.get(nome, 0)
        total += custo * vezes
        print(f"{nome:46}{sem[nome]:>10.1f}{com[nome]:>10.1f}{custo:>8.1f}{vezes:>12}")
    print(f"soma por compra: {total / 1000:.1f} ms de CPU = {total / 10 / cpu_da_compra_ms:.0f}% dos "
          f"{cpu_da_compra_ms:.1f} ms de CPU de uma compra com o SDK desligado\n"
          "(CPUs ÷ compras/s com 8 clientes: serviços, PostgreSQL e gerador de carga juntos)")


if __name__ == "__main__":
    print(json.dumps(medir_neste_processo(sys.argv[2])))
