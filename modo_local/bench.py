"""`make bench`: quanto custa a instrumentação, a partir do zero de verdade.

Sobe o laboratório três vezes, lado a lado, na mesma máquina:
1. sem instrumentação: as instrumentações nunca são instaladas
   (OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=*) e o SDK está desligado — o zero;
2. SDK desligado (OTEL_SDK_DISABLED=true): os wrappers das bibliotecas continuam
   no caminho de cada requisição, mas nada é gravado;
3. instrumentado com a configuração do laboratório (otel.env, LOG_LEVEL=INFO),
   exportando OTLP para um receptor local (o papel do Collector).

A mesma carga (BENCH_COMPRAS compras, BENCH_CONCORRENCIA clientes) vai para os
três, em 6 rodadas alternadas (zero, desligado, instrumentado, zero, ...): numa
máquina virtual a CPU disponível oscila de um minuto para o outro, e alternar
faz a oscilação cair igualmente sobre todos em vez de virar "custo". Além do
tempo de parede, a CPU que cada serviço gastou (utime + stime do master e dos
workers, em /proc) dividida pelas compras: o custo que não depende da fila.

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
from .caos import filhos
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


MODOS = {
    "zero": ("sem instrumentação", {"OTEL_SDK_DISABLED": "true", "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "*"}),
    "desligado": ("SDK desligado", {"OTEL_SDK_DISABLED": "true"}),
    "instrumentado": ("instrumentado", {"OTEL_SDK_DISABLED": "false"}),
}
SERVICOS = ("livros", "ordens", "pagamentos")


def cpu_segundos(pid: int) -> float:
    """utime + stime de um processo e dos filhos vivos dele (o master e os workers)."""
    tique = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for candidato in [pid, *filhos(pid)]:
        try:
            campos = Path(f"/proc/{candidato}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(campos[11]) + int(campos[12])) / tique  # utime, stime
    return total


class Alvo:
    """Um laboratório no ar e a compra que a carga repete contra ele."""

    def __init__(self, lab: Laboratorio):
        self.lab = lab
        self.cpu: dict[int, dict[str, float]] = {}
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

    def _cpu_agora(self) -> dict[str, float]:
        return {nome: cpu_segundos(self.lab.processos[nome].pid) for nome in SERVICOS}

    def carga(self, concorrencia: int, compras: int) -> None:
        antes = self._cpu_agora()
        with ThreadPoolExecutor(concorrencia) as executor:
            inicio = time.perf_counter()
            duracoes = list(executor.map(self.comprar, range(compras)))
            self.tempo_total[concorrencia] = self.tempo_total.get(concorrencia, 0) + time.perf_counter() - inicio
        # As threads de exportação trabalham até ~1 s depois da última compra (lote de 1 s).
        time.sleep(1.2)
        depois = self._cpu_agora()
        cpu = self.cpu.setdefault(concorrencia, dict.fromkeys(SERVICOS, 0.0))
        for nome in SERVICOS:
            cpu[nome] += depois[nome] - antes[nome]
        self.duracoes.setdefault(concorrencia, []).extend(duracoes)

    def resultado(self, concorrencia: int) -> dict:
        ms = [d * 1000 for d in self.duracoes[concorrencia]]
        compras = len(ms)
        return {"vazao": compras / self.tempo_total[concorrencia], "p50": statistics.median(ms),
                "p95": percentil(ms, 95), "p99": percentil(ms, 99),
                **{f"cpu {nome}": self.cpu[concorrencia][nome] * 1000 / compras for nome in SERVICOS}}


def subir(pilha: ExitStack, postgres, nome: str, ambiente: dict) -> Laboratorio:
    portas = {servico: porta_livre() for servico in ("livros", "ordens", "pagamentos")}
    base = {"CATALOGO_INICIAL": "false", "WEB_CONCURRENCY": WORKERS}
    lab = Laboratorio(postgres, portas=portas, ambiente={**base, **ambiente},
                      pasta_logs=Path(tempfile.mkdtemp(prefix=f"bench-{nome}-")), prefixo_bancos=f"bench_{nome}_")
    return pilha.enter_context(lab.iniciar(recriar_bancos=True))


def imprimir(concorrencia: int, resultados: dict[str, dict]) -> None:
    zero, desligado, com = (resultados[modo] for modo in MODOS)
    print(f"{concorrencia} cliente(s) simultâneo(s)")
    print(f"{'':24}" + "".join(f"{MODOS[modo][0]:>20}" for modo in MODOS) + f"{'inst/desl':>11}{'inst/zero':>11}")
    linhas = [("compras/s", "vazao"), ("p50 (ms)", "p50"), ("p95 (ms)", "p95"), ("p99 (ms)", "p99"),
              *((f"CPU ms/compra {nome}", f"cpu {nome}") for nome in SERVICOS)]
    for rotulo, chave in linhas:
        print(f"{rotulo:24}" + "".join(f"{resultados[modo][chave]:>20.2f}" for modo in MODOS)
              + f"{com[chave] / desligado[chave]:>11.3f}{com[chave] / zero[chave]:>11.3f}")
    cpu = {modo: sum(resultados[modo][f"cpu {nome}"] for nome in SERVICOS) for modo in MODOS}
    print(f"{'CPU ms/compra (3 serv.)':24}" + "".join(f"{cpu[modo]:>20.2f}" for modo in MODOS)
          + f"{cpu['instrumentado'] / cpu['desligado']:>11.3f}{cpu['instrumentado'] / cpu['zero']:>11.3f}")
    for base, nome in ((desligado, "SDK desligado"), (zero, "sem instrumentação")):
        print(f"contra {nome}: vazão x{com['vazao'] / base['vazao']:.3f}, "
              f"{com['p50'] - base['p50']:+.1f} ms no p50")
    print("meta (contra SDK desligado): vazão >= 0,90 com 8 clientes; p50 <= +2,5 ms com 1 cliente\n", flush=True)


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
        alvos = {modo: Alvo(subir(pilha, postgres, modo, {**ambiente, **receptor.ambiente()}))
                 for modo, (_, ambiente) in MODOS.items()}
        for alvo in alvos.values():  # conexões, caches e JIT do PostgreSQL aquecidos antes de medir
            with ThreadPoolExecutor(8) as executor:
                list(executor.map(alvo.comprar, range(AQUECIMENTO)))
        for concorrencia in CONCORRENCIAS:
            for _ in range(RODADAS):
                for alvo in alvos.values():
                    alvo.carga(concorrencia, COMPRAS // RODADAS)
            imprimir(concorrencia, {modo: alvo.resultado(concorrencia) for modo, alvo in alvos.items()})
        time.sleep(2)  # o último lote (OTEL_BSP_SCHEDULE_DELAY=1 s) chega ao receptor
        com = alvos["instrumentado"]
        compras = AQUECIMENTO + sum(len(d) for d in com.duracoes.values())
        por_compra = telemetria_por_compra(receptor, compras)
        print("telemetria por compra: " + ", ".join(f"{n} {nome.split(' (')[0]}" for nome, n in por_compra.items())
              + "\n", flush=True)

        # De onde vem o custo: cada peça medida isolada, vezes quantas uma compra tem.
        unitario = {modo: bench_unitario.medir(modo, postgres.url(), receptor.ambiente()) for modo in ("sem", "com")}
        saturado = alvos["desligado"].resultado(max(CONCORRENCIAS))
        bench_unitario.imprimir(unitario["sem"], unitario["com"], por_compra,
                                cpu_da_compra_ms=(os.cpu_count() or 1) * 1000 / saturado["vazao"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
