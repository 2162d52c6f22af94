"""`make perfil`: onde vai a CPU da telemetria numa compra, por componente (py-spy).

Sobe o laboratório instrumentado (configuração do laboratório, receptor OTLP local),
põe 8 clientes comprando e amostra com o py-spy os seis workers ao mesmo tempo
(`--nonblocking`: sem pausar o processo, para não distorcer o que mede). Cada
amostra (uma pilha de chamadas de uma thread que estava na CPU) vai para um
componente:

- se a thread é de exportação (lote de spans/logs, leitor periódico de métricas),
  é "exportação em segundo plano" daquele sinal;
- senão, olha-se o frame mais interno que é do OpenTelemetry ou da aplicação
  (nosso código, Flask/Werkzeug, psycopg, requests/urllib3, gunicorn). Se for do
  OpenTelemetry, a amostra é dele (sdk.trace, instrumentation.flask…); se for da
  aplicação, é trabalho da compra. Frames da biblioteca padrão e do protobuf não
  decidem: contam para quem os chamou.

Imprime a tabela que está em docs/custo-da-telemetria.md. Precisa de permissão
para ler a memória de outro processo (root, ou ptrace_scope=0; no Docker, SYS_PTRACE).
"""
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from bookstore import config, topologia
from modo_local.postgres import PostgresEmbutido
from supervisao.filho import Filho
from supervisao.proc import cpu_segundos, filhos
from telemetria_local.receptor import ReceptorOTLP

from .lado_a_lado import Alvo, subir_todos

SERVICOS = topologia.SERVICOS
CLIENTES = 8
APLICACAO = ("bookstore/", "livros/", "ordens/", "pagamentos/", "flask/", "werkzeug/", "psycopg/",
             "psycopg_pool/", "requests/", "urllib3/", "gunicorn/", "simplejson/", "jinja2/")
# Threads de exportação: o frame que diz qual sinal ela exporta.
EXPORTACAO = {"trace_exporter": "exportação em segundo plano: spans (protobuf + HTTP)",
              "_log_exporter": "exportação em segundo plano: logs (protobuf + HTTP)",
              "metrics/_internal/export": "exportação em segundo plano: métricas",
              "sdk/_shared_internal": "exportação em segundo plano: fila do lote"}


def componente(pilha: list[str]) -> str:
    """O componente de uma amostra; `pilha` vai da raiz ao frame mais interno."""
    for trecho, nome in EXPORTACAO.items():
        if any(trecho in frame for frame in pilha):
            return nome
    for frame in reversed(pilha):
        if "opentelemetry/" in frame:
            caminho = frame.split("opentelemetry/", 1)[1].split(".py", 1)[0].split("/")
            return "otel " + ".".join(caminho[:2])  # ex.: otel sdk.trace, otel instrumentation.dbapi
        if any(trecho in frame for trecho in APLICACAO):
            return "aplicação (a compra em si)"
    return "aplicação (a compra em si)"


def ler_pilhas(arquivo: Path) -> Counter:
    contagem: Counter = Counter()
    for linha in arquivo.read_text(errors="replace").splitlines():
        pilha, _, numero = linha.rpartition(" ")
        if pilha and numero.isdigit():
            contagem[componente(pilha.split(";"))] += int(numero)
    return contagem


def main() -> int:
    duracao = config.ler("PERFIL_SEGUNDOS")
    print(f"make perfil: {CLIENTES} clientes por {duracao} s, py-spy nos 6 workers\n", flush=True)
    pasta = Path(tempfile.mkdtemp(prefix="bookstore-perfil-"))
    with ExitStack() as pilha:
        postgres = pilha.enter_context(PostgresEmbutido())
        receptor = pilha.enter_context(ReceptorOTLP(em_memoria=False))
        labs = subir_todos(pilha, postgres, {"perfil": {"OTEL_SDK_DISABLED": "false", **receptor.ambiente()}},
                           workers=config.ler("WEB_CONCURRENCY"))
        alvo = Alvo(labs["perfil"])
        with ThreadPoolExecutor(CLIENTES) as executor:
            list(executor.map(alvo.comprar, range(40)))  # aquecimento
        workers = {nome: filhos(alvo.lab.processos[nome].pid) for nome in SERVICOS}
        cpu_antes = {nome: cpu_segundos(alvo.lab.processos[nome].pid) for nome in SERVICOS}
        fim = time.monotonic() + duracao
        compras = Counter()

        def comprar_ate_o_fim(_):
            while time.monotonic() < fim:
                alvo.comprar()
                compras["total"] += 1

        carga = [threading.Thread(target=comprar_ate_o_fim, args=(n,)) for n in range(CLIENTES)]
        for thread in carga:
            thread.start()
        amostradores = [(nome, pid, Filho(
            [Path(sys.executable).parent / "py-spy", "record", "--pid", pid, "--duration", duracao - 1,
             "--rate", "100", "--nonblocking", "--gil", "--full-filenames", "--format", "raw",
             "--output", pasta / f"{nome}-{pid}.txt"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).iniciar())
            for nome, pids in workers.items() for pid in pids]
        for thread in carga:
            thread.join()
        for _, _, amostrador in amostradores:
            amostrador.esperar()
        cpu = {nome: cpu_segundos(alvo.lab.processos[nome].pid) - cpu_antes[nome] for nome in SERVICOS}

    total = compras["total"]
    por_servico = {nome: Counter() for nome in SERVICOS}
    for nome, pid, _ in amostradores:
        arquivo = pasta / f"{nome}-{pid}.txt"
        if arquivo.exists():
            por_servico[nome].update(ler_pilhas(arquivo))
    print(f"{total} compras; CPU dos serviços por compra: "
          + ", ".join(f"{nome} {cpu[nome] * 1000 / total:.2f} ms" for nome in SERVICOS) + "\n")
    todos = sum(por_servico.values(), Counter())
    amostras = sum(todos.values()) or 1
    cpu_por_compra = sum(cpu.values()) * 1000 / total
    print(f"{'componente':58}{'amostras':>9}{'%':>7}{'ms/compra':>11}")
    for nome, n in todos.most_common():
        print(f"{nome:58}{n:>9}{100 * n / amostras:>6.1f}%{cpu_por_compra * n / amostras:>11.2f}")
    print(f"\n(ms/compra = fração das amostras × {cpu_por_compra:.2f} ms de CPU por compra nos três serviços)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
