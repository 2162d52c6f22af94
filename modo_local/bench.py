"""`make bench`: quanto custa a instrumentação.

Sobe o laboratório duas vezes, lado a lado, na mesma máquina:
1. OTEL_SDK_DISABLED=true (a instrumentação fica no código, mas o SDK não grava nada);
2. instrumentado com a configuração do laboratório (otel.env, LOG_LEVEL=INFO),
   exportando OTLP para um receptor local (o papel do Collector).

A mesma carga (BENCH_COMPRAS compras, BENCH_CONCORRENCIA clientes) vai para os
dois, em 6 rodadas alternadas (desligado, instrumentado, desligado, ...): numa
máquina virtual a CPU disponível oscila de um minuto para o outro, e alternar
faz a oscilação cair igualmente sobre os dois lados em vez de virar "custo".

Duas cargas, porque medem coisas diferentes:
- 1 cliente: a máquina sobra; a diferença é o que a instrumentação acrescenta
  ao caminho de cada requisição (latência).
- 8 clientes: as 2 CPUs saturam; a diferença é o custo total em CPU (vazão),
  inclusive o das threads que codificam e exportam os lotes.
"""
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import requests

from . import bench_unitario
from .postgres import PostgresEmbutido, porta_livre
from telemetria_local.receptor import ReceptorOTLP
from .servicos import Laboratorio

COMPRAS = int(os.environ.get("BENCH_COMPRAS", "300"))
CONCORRENCIAS = [int(c) for c in os.environ.get("BENCH_CONCORRENCIA", "1,8").split(",")]
RODADAS = int(os.environ.get("BENCH_RODADAS", "6"))
WORKERS = os.environ.get("WEB_CONCURRENCY", "2")
AQUECIMENTO = 40
# SpanKind no protobuf do OTLP.
INTERNO, SERVIDOR, CLIENTE = 1, 2, 3


def percentil(valores, p):
    ordenados = sorted(valores)
    return ordenados[min(len(ordenados) - 1, int(round(p / 100 * (len(ordenados) - 1))))]


class Alvo:
    """Um laboratório no ar e a compra que a carga repete contra ele."""

    def __init__(self, lab: Laboratorio):
        self.url = lab.url("ordens") + "/ordens"
        livro = requests.post(lab.url("livros") + "/livros", timeout=5,
                              json={"titulo": "Bench", "preco": 10, "estoque": 10**7}).json()["id"]
        self.corpo = {"itens": [{"livro_id": livro, "quantidade": 1}]}
        self.duracoes: dict[int, list[float]] = {}
        self.tempo_total: dict[int, float] = {}

    def comprar(self, _=None) -> float:
        inicio = time.perf_counter()
        resposta = requests.post(self.url, json=self.corpo, timeout=30)
        assert resposta.status_code == 201, resposta.text
        return time.perf_counter() - inicio

    def carga(self, concorrencia: int, compras: int) -> None:
        with ThreadPoolExecutor(concorrencia) as executor:
            inicio = time.perf_counter()
            duracoes = list(executor.map(self.comprar, range(compras)))
            self.tempo_total[concorrencia] = self.tempo_total.get(concorrencia, 0) + time.perf_counter() - inicio
        self.duracoes.setdefault(concorrencia, []).extend(duracoes)

    def resultado(self, concorrencia: int) -> dict:
        ms = [d * 1000 for d in self.duracoes[concorrencia]]
        return {"vazao": len(ms) / self.tempo_total[concorrencia], "p50": statistics.median(ms),
                "p95": percentil(ms, 95), "p99": percentil(ms, 99)}


def subir(pilha: ExitStack, postgres, nome: str, ambiente: dict) -> Laboratorio:
    portas = {servico: porta_livre() for servico in ("livros", "ordens", "pagamentos")}
    base = {"CATALOGO_INICIAL": "false", "WEB_CONCURRENCY": WORKERS}
    lab = Laboratorio(postgres, portas=portas, ambiente={**base, **ambiente},
                      pasta_logs=Path(tempfile.mkdtemp(prefix=f"bench-{nome}-")), prefixo_bancos=f"bench_{nome}_")
    return pilha.enter_context(lab.iniciar(recriar_bancos=True))


def imprimir(concorrencia: int, sem: dict, com: dict) -> None:
    print(f"{concorrencia} cliente(s) simultâneo(s)")
    print(f"{'':24}{'SDK desligado':>15}{'instrumentado':>15}{'razão':>10}")
    print(f"{'compras/s':24}{sem['vazao']:>15.1f}{com['vazao']:>15.1f}{com['vazao'] / sem['vazao']:>10.3f}")
    for p in ("p50", "p95", "p99"):
        print(f"{p + ' (ms)':24}{sem[p]:>15.1f}{com[p]:>15.1f}{com[p] / sem[p]:>10.3f}")
    perda = (1 - com["vazao"] / sem["vazao"]) * 100
    print(f"custo: {perda:.1f}% da vazão, {com['p50'] - sem['p50']:+.1f} ms no p50 (meta: <= 5% e <= 2 ms)\n")


def telemetria_por_compra(receptor: ReceptorOTLP, compras: int) -> dict:
    """Quantas vezes cada peça medida em bench_unitario aparece numa compra."""
    spans = receptor.spans()

    def media(condicao) -> int:
        return round(sum(1 for span in spans if condicao(span)) / compras)

    return {
        "span manual (1 atributo, 1 evento)": media(lambda s: s["kind"] == INTERNO),
        "comando SQL (psycopg, span CLIENT)": media(lambda s: s["kind"] == CLIENTE and "db.system" in s["atributos"]),
        "requisição Flask (span SERVER + métricas)": media(lambda s: s["kind"] == SERVIDOR),
        "chamada requests (span CLIENT + traceparent)": media(
            lambda s: s["kind"] == CLIENTE and "db.system" not in s["atributos"]),
        "registro de log INFO (stdout + OTLP)": round(len(receptor.logs()) / compras),
    }


def main() -> int:
    print(f"{COMPRAS} compras por carga em {RODADAS} rodadas alternadas, {WORKERS} workers por serviço, "
          f"{os.cpu_count()} CPUs\n", flush=True)
    with ExitStack() as pilha:
        postgres = pilha.enter_context(PostgresEmbutido())
        receptor = pilha.enter_context(ReceptorOTLP())
        sem = Alvo(subir(pilha, postgres, "sem", {"OTEL_SDK_DISABLED": "true"}))
        com = Alvo(subir(pilha, postgres, "com", {"OTEL_SDK_DISABLED": "false", **receptor.ambiente()}))
        for alvo in (sem, com):  # conexões, caches e JIT do PostgreSQL aquecidos antes de medir
            with ThreadPoolExecutor(8) as executor:
                list(executor.map(alvo.comprar, range(AQUECIMENTO)))
        for concorrencia in CONCORRENCIAS:
            for _ in range(RODADAS):
                for alvo in (sem, com):
                    alvo.carga(concorrencia, COMPRAS // RODADAS)
            imprimir(concorrencia, sem.resultado(concorrencia), com.resultado(concorrencia))
        time.sleep(2)  # o último lote (OTEL_BSP_SCHEDULE_DELAY=1 s) chega ao receptor
        compras = AQUECIMENTO + sum(len(d) for d in com.duracoes.values())
        por_compra = telemetria_por_compra(receptor, compras)
        print("telemetria por compra: " + ", ".join(f"{n} {nome.split(' (')[0]}" for nome, n in por_compra.items())
              + "\n", flush=True)

        # De onde vem o custo: cada peça medida isolada, vezes quantas uma compra tem.
        unitario = {modo: bench_unitario.medir(modo, postgres.url(), receptor.ambiente()) for modo in ("sem", "com")}
        saturado = sem.resultado(max(CONCORRENCIAS))
        bench_unitario.imprimir(unitario["sem"], unitario["com"], por_compra,
                                cpu_da_compra_ms=(os.cpu_count() or 1) * 1000 / saturado["vazao"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
