"""`make bench`: quanto custa a instrumentação.

Sobe o laboratório duas vezes, na mesma máquina e com a mesma carga:
1. OTEL_SDK_DISABLED=true (a instrumentação fica no código, mas o SDK não grava nada);
2. instrumentado, exportando OTLP para um receptor local (o papel do Collector).
Dispara BENCH_COMPRAS compras com BENCH_CONCORRENCIA clientes e imprime,
lado a lado, compras/s, p50/p95/p99 e a razão entre os dois.
"""
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from .postgres import PostgresEmbutido, porta_livre
from .receptor_otlp import ReceptorOTLP
from .servicos import Laboratorio

COMPRAS = int(os.environ.get("BENCH_COMPRAS", "400"))
CONCORRENCIA = int(os.environ.get("BENCH_CONCORRENCIA", "8"))
AQUECIMENTO = 40


def percentil(valores, p):
    ordenados = sorted(valores)
    return ordenados[min(len(ordenados) - 1, int(round(p / 100 * (len(ordenados) - 1))))]


def rodada(postgres, nome: str, ambiente: dict) -> dict:
    portas = {servico: porta_livre() for servico in ("livros", "ordens", "pagamentos")}
    logs = Path(tempfile.mkdtemp(prefix=f"bench-{nome}-"))
    base = {"CATALOGO_INICIAL": "false", "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
            "LOG_LEVEL": "WARNING"}
    with Laboratorio(postgres, portas=portas, ambiente={**base, **ambiente}, pasta_logs=logs,
                     prefixo_bancos=f"bench_{nome}_").iniciar(recriar_bancos=True) as lab:
        livro = requests.post(lab.url("livros") + "/livros", timeout=5,
                              json={"titulo": "Bench", "preco": 10, "estoque": 10**6}).json()["id"]
        corpo = {"itens": [{"livro_id": livro, "quantidade": 1}]}

        def comprar(_):
            inicio = time.perf_counter()
            resposta = requests.post(lab.url("ordens") + "/ordens", json=corpo, timeout=30)
            assert resposta.status_code == 201, resposta.text
            return time.perf_counter() - inicio

        with ThreadPoolExecutor(CONCORRENCIA) as executor:
            list(executor.map(comprar, range(AQUECIMENTO)))
            inicio = time.perf_counter()
            duracoes = list(executor.map(comprar, range(COMPRAS)))
            total = time.perf_counter() - inicio
    ms = [d * 1000 for d in duracoes]
    return {"vazao": COMPRAS / total, "p50": statistics.median(ms), "p95": percentil(ms, 95),
            "p99": percentil(ms, 99)}


def main() -> int:
    print(f"{COMPRAS} compras, {CONCORRENCIA} clientes simultâneos, "
          f"{os.environ.get('WEB_CONCURRENCY', '2')} workers por serviço, {os.cpu_count()} CPUs\n", flush=True)
    with PostgresEmbutido() as postgres, ReceptorOTLP() as receptor:
        sem = rodada(postgres, "sem", {"OTEL_SDK_DISABLED": "true"})
        com = rodada(postgres, "com", {"OTEL_SDK_DISABLED": "false", **receptor.ambiente()})
        lotes = len(receptor.pedidos["traces"])
    print(f"{'':24}{'SDK desligado':>15}{'instrumentado':>15}{'razão':>10}")
    print(f"{'compras/s':24}{sem['vazao']:>15.1f}{com['vazao']:>15.1f}{com['vazao'] / sem['vazao']:>10.3f}")
    for p in ("p50", "p95", "p99"):
        print(f"{p + ' (ms)':24}{sem[p]:>15.1f}{com[p]:>15.1f}{com[p] / sem[p]:>10.3f}")
    perda = (1 - com["vazao"] / sem["vazao"]) * 100
    print(f"\ncusto da instrumentação: {perda:.1f}% da vazão, {com['p50'] - sem['p50']:+.1f} ms no p50"
          f" (meta: <= 5% e <= 2 ms); {lotes} lotes de spans recebidos pelo receptor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
