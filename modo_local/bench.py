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

Com BENCH_AMOSTRAGEM=0.1, uma quarta coluna: instrumentado guardando 10% dos traces
(exercício 16). Cada execução fica em .bench/<data>.json (BENCH_PASTA muda a pasta).

Duas cargas, porque medem coisas diferentes:
- 1 cliente: a máquina sobra; a diferença é o que a instrumentação acrescenta
  ao caminho de cada requisição (latência).
- 8 clientes: as 2 CPUs saturam; a diferença é o custo total em CPU (vazão),
  inclusive o das threads que codificam e exportam os lotes.
"""
import datetime
import json
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
from .servicos import RAIZ, Laboratorio, ambiente_otel_do_laboratorio

COMPRAS = int(os.environ.get("BENCH_COMPRAS", "300"))
CONCORRENCIAS = [int(c) for c in os.environ.get("BENCH_CONCORRENCIA", "1,8").split(",")]
RODADAS = int(os.environ.get("BENCH_RODADAS", "6"))
WORKERS = os.environ.get("WEB_CONCURRENCY", "2")
AQUECIMENTO = int(os.environ.get("BENCH_AQUECIMENTO", "40"))
# Cada execução fica num arquivo (o exercício 16 compara duas; o autoteste as lê daqui).
PASTA_DAS_MEDICOES = Path(os.environ.get("BENCH_PASTA", RAIZ / ".bench"))
# Depois de cada carga, o tempo de as threads de exportação mandarem o último lote: um
# OTEL_BSP_SCHEDULE_DELAY (o dos serviços: o ambiente, senão otel.env) e uma folga.
ESPERA_DO_LOTE_SEGUNDOS = int({**ambiente_otel_do_laboratorio(), **os.environ}.get("OTEL_BSP_SCHEDULE_DELAY", "5000")) / 1000 + 0.2
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
# BENCH_AMOSTRAGEM=0.1: uma quarta coluna, instrumentada mas guardando 10% dos traces, nas MESMAS
# rodadas alternadas (exercício 16). Comparar duas execuções separadas misturaria a oscilação da
# máquina de um minuto para o outro com o efeito da amostragem.
AMOSTRAGEM = float(os.environ["BENCH_AMOSTRAGEM"]) if os.environ.get("BENCH_AMOSTRAGEM") else None
if AMOSTRAGEM is not None:
    MODOS["amostrado"] = (f"amostrado {AMOSTRAGEM:.0%}", {
        "OTEL_SDK_DISABLED": "false", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": str(AMOSTRAGEM)})
# As razões que a tabela imprime: (quem, contra quem, rótulo da coluna).
COMPARACOES = [("instrumentado", "desligado", "inst/desl"), ("instrumentado", "zero", "inst/zero"),
               *([("amostrado", "desligado", "amos/desl")] if AMOSTRAGEM is not None else [])]
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
        time.sleep(ESPERA_DO_LOTE_SEGUNDOS)  # a CPU da exportação do último lote entra na conta
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


def parar_todos(labs: dict[str, Laboratorio]) -> None:
    with ThreadPoolExecutor(max(1, len(labs))) as executor:
        list(executor.map(Laboratorio.parar, labs.values()))


def subir_todos(pilha: ExitStack, postgres, ambientes: dict[str, dict]) -> dict[str, Laboratorio]:
    """Um laboratório por modo, lançados juntos e esperados depois; no fim, param juntos."""
    base = {"CATALOGO_INICIAL": "false", "WEB_CONCURRENCY": WORKERS}
    labs = {}
    pilha.callback(parar_todos, labs)  # registrado antes: o que já subiu para mesmo se outro falhar
    for nome, ambiente in ambientes.items():
        portas = {servico: porta_livre() for servico in SERVICOS}
        labs[nome] = Laboratorio(postgres, portas=portas, ambiente={**base, **ambiente},
                                 pasta_logs=Path(tempfile.mkdtemp(prefix=f"bench-{nome}-")),
                                 prefixo_bancos=f"bench_{nome}_").iniciar(recriar_bancos=True, esperar=False)
    for lab in labs.values():
        lab.esperar_prontos()
    return labs


def razao(valor: float, base: float) -> float | None:
    """None quando a base é zero (carga pequena demais para o relógio de CPU, de 10 ms, ver algo)."""
    return round(valor / base, 3) if base else None


def formatar(valor: float | None) -> str:
    return f"{valor:>11.3f}" if valor is not None else f"{'—':>11}"


def cpu_total(resultado: dict) -> float:
    return sum(resultado[f"cpu {nome}"] for nome in SERVICOS)


def imprimir(concorrencia: int, resultados: dict[str, dict]) -> None:
    print(f"{concorrencia} cliente(s) simultâneo(s)")
    print(f"{'':24}" + "".join(f"{MODOS[modo][0]:>20}" for modo in MODOS)
          + "".join(f"{rotulo:>11}" for *_, rotulo in COMPARACOES))
    linhas = [("compras/s", "vazao"), ("p50 (ms)", "p50"), ("p95 (ms)", "p95"), ("p99 (ms)", "p99"),
              *((f"CPU ms/compra {nome}", f"cpu {nome}") for nome in SERVICOS)]
    for rotulo, chave in linhas:
        print(f"{rotulo:24}" + "".join(f"{resultados[modo][chave]:>20.2f}" for modo in MODOS)
              + "".join(formatar(razao(resultados[com][chave], resultados[base][chave])) for com, base, _ in COMPARACOES))
    cpu = {modo: cpu_total(resultados[modo]) for modo in MODOS}
    print(f"{'CPU ms/compra (3 serv.)':24}" + "".join(f"{cpu[modo]:>20.2f}" for modo in MODOS)
          + "".join(formatar(razao(cpu[com], cpu[base])) for com, base, _ in COMPARACOES))
    for com, base, _ in COMPARACOES:
        print(f"{MODOS[com][0]} contra {MODOS[base][0]}: vazão x{resultados[com]['vazao'] / resultados[base]['vazao']:.3f}, "
              f"{resultados[com]['p50'] - resultados[base]['p50']:+.1f} ms no p50")
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


def guardar(resultados: dict[int, dict[str, dict]], por_compra: dict, pasta: Path = PASTA_DAS_MEDICOES) -> Path:
    """A medição em JSON: a carga, a amostragem e, por número de clientes, os modos e as razões
    que a tabela imprime ("instrumentado/desligado": vazão, CPU e p50 a mais)."""
    agora = datetime.datetime.now().astimezone()
    razoes = {concorrencia: {f"{com}/{base}": {
        "vazao": razao(modos[com]["vazao"], modos[base]["vazao"]),
        "cpu": razao(cpu_total(modos[com]), cpu_total(modos[base])),
        "p50_ms_a_mais": round(modos[com]["p50"] - modos[base]["p50"], 1)} for com, base, _ in COMPARACOES}
        for concorrencia, modos in resultados.items()}
    medicao = {"quando": agora.isoformat(timespec="seconds"), "amostragem": AMOSTRAGEM,
               "compras": COMPRAS, "rodadas": RODADAS, "workers": WORKERS,
               "resultados": resultados, "razoes": razoes, "telemetria_por_compra": por_compra}
    pasta.mkdir(parents=True, exist_ok=True)
    arquivo = pasta / f"{agora:%Y%m%d-%H%M%S}.json"
    arquivo.write_text(json.dumps(medicao, ensure_ascii=False, indent=1))
    return arquivo


def medicoes(pasta: Path = PASTA_DAS_MEDICOES) -> list[dict]:
    """As medições guardadas, da mais antiga à mais nova (chaves de clientes voltam a ser int)."""
    lidas = []
    for arquivo in sorted(pasta.glob("*.json")):
        medicao = json.loads(arquivo.read_text())
        medicao["razoes"] = {int(k): v for k, v in medicao["razoes"].items()}
        lidas.append(medicao)
    return lidas


def main() -> int:
    print(f"{COMPRAS} compras por carga em {RODADAS} rodadas alternadas, {WORKERS} workers por serviço, "
          f"{os.cpu_count()} CPUs\n", flush=True)
    with ExitStack() as pilha:
        postgres = pilha.enter_context(PostgresEmbutido())
        # Um receptor por modo que exporta: a telemetria por compra de cada um não se mistura.
        receptores = {modo: pilha.enter_context(ReceptorOTLP()) for modo in ("instrumentado", "amostrado")
                      if modo in MODOS}
        # Os modos sem SDK não exportam nada; apontam para o receptor do instrumentado mesmo assim.
        destino = {modo: receptores.get(modo, receptores["instrumentado"]).ambiente() for modo in MODOS}
        labs = subir_todos(pilha, postgres, {modo: {**ambiente, **destino[modo]} for modo, (_, ambiente) in MODOS.items()})
        alvos = {modo: Alvo(lab) for modo, lab in labs.items()}
        for alvo in alvos.values():  # conexões, caches e JIT do PostgreSQL aquecidos antes de medir
            with ThreadPoolExecutor(8) as executor:
                list(executor.map(alvo.comprar, range(AQUECIMENTO)))
        resultados = {}
        for concorrencia in CONCORRENCIAS:
            for _ in range(RODADAS):
                for alvo in alvos.values():
                    alvo.carga(concorrencia, COMPRAS // RODADAS)
            resultados[concorrencia] = {modo: alvo.resultado(concorrencia) for modo, alvo in alvos.items()}
            imprimir(concorrencia, resultados[concorrencia])
        time.sleep(ESPERA_DO_LOTE_SEGUNDOS + 0.8)  # o último lote chega aos receptores
        compras = AQUECIMENTO + sum(len(d) for d in alvos["instrumentado"].duracoes.values())
        por_compra = {modo: telemetria_por_compra(receptor, compras) for modo, receptor in receptores.items()}
        for modo, contagem in por_compra.items():
            print(f"telemetria por compra ({MODOS[modo][0]}): "
                  + ", ".join(f"{n} {nome.split(' (')[0]}" for nome, n in contagem.items()), flush=True)
        print(f"\nmedição guardada em {guardar(resultados, por_compra)}\n", flush=True)
        if os.environ.get("BENCH_SO_A_CARGA") == "true":
            return 0  # sem o custo de cada peça (abaixo): a suíte de testes só confere a medição

        # De onde vem o custo: cada peça medida isolada, vezes quantas uma compra tem.
        receptor = receptores["instrumentado"]
        unitario = {modo: bench_unitario.medir(modo, postgres.url(), receptor.ambiente()) for modo in ("sem", "com")}
        saturado = alvos["desligado"].resultado(max(CONCORRENCIAS))
        bench_unitario.imprimir(unitario["sem"], unitario["com"], por_compra["instrumentado"],
                                cpu_da_compra_ms=(os.cpu_count() or 1) * 1000 / saturado["vazao"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
