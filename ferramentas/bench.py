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
(exercício 16). Cada execução fica em .bench/<data>.json (ferramentas/medicoes.py).

Duas cargas, porque medem coisas diferentes:
- 1 cliente: a máquina sobra; a diferença é o que a instrumentação acrescenta
  ao caminho de cada requisição (latência).
- 8 clientes: as 2 CPUs saturam; a diferença é o custo total em CPU (vazão),
  inclusive o das threads que codificam e exportam os lotes.
"""
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass

from bookstore import config, topologia
from modo_local.postgres import PostgresEmbutido
from telemetria_local.otlp import CLIENTE, INTERNO, SERVIDOR
from telemetria_local.receptor import ReceptorOTLP

from . import custo_por_peca, medicoes
from .lado_a_lado import Alvo, subir_todos
from .medicoes import cpu_total, razao

SERVICOS = topologia.SERVICOS


@dataclass(frozen=True)
class Parametros:
    """O que o `make bench` mede, lido do ambiente (BENCH_*) quando ele roda."""
    compras: int
    concorrencias: tuple[int, ...]
    rodadas: int
    workers: int
    aquecimento: int
    amostragem: float | None  # BENCH_AMOSTRAGEM=0.1: a quarta coluna do exercício 16
    so_a_carga: bool
    # Depois de cada carga, o tempo de as threads de exportação mandarem o último lote: um
    # OTEL_BSP_SCHEDULE_DELAY (o dos serviços: o ambiente, senão otel.env) e uma folga.
    espera_do_lote: float

    @classmethod
    def do_ambiente(cls) -> "Parametros":
        amostragem = config.ler("BENCH_AMOSTRAGEM")
        atraso_ms = (config.ler("OTEL_BSP_SCHEDULE_DELAY") if config.definida("OTEL_BSP_SCHEDULE_DELAY")
                     else int(config.variaveis_do_otel_env()["OTEL_BSP_SCHEDULE_DELAY"]))
        try:
            concorrencias = tuple(int(c) for c in config.ler("BENCH_CONCORRENCIA"))
            amostragem = float(amostragem) if amostragem else None
        except ValueError as erro:
            raise config.ConfiguracaoInvalida(f"BENCH_CONCORRENCIA ou BENCH_AMOSTRAGEM: {erro}") from None
        return cls(compras=config.ler("BENCH_COMPRAS"), concorrencias=concorrencias,
                   rodadas=config.ler("BENCH_RODADAS"), workers=config.ler("WEB_CONCURRENCY"),
                   aquecimento=config.ler("BENCH_AQUECIMENTO"), amostragem=amostragem,
                   so_a_carga=config.ler("BENCH_SO_A_CARGA"), espera_do_lote=atraso_ms / 1000 + 0.2)


def modos(amostragem: float | None) -> dict[str, tuple[str, dict]]:
    """modo → (rótulo da coluna, ambiente dos serviços)."""
    todos = {
        "zero": ("sem instrumentação", {"OTEL_SDK_DISABLED": "true", "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "*"}),
        "desligado": ("SDK desligado", {"OTEL_SDK_DISABLED": "true"}),
        "instrumentado": ("instrumentado", {"OTEL_SDK_DISABLED": "false"}),
    }
    # A quarta coluna, instrumentada mas guardando uma fração dos traces, nas MESMAS rodadas
    # alternadas (exercício 16). Comparar duas execuções separadas misturaria a oscilação da
    # máquina de um minuto para o outro com o efeito da amostragem.
    if amostragem is not None:
        todos["amostrado"] = (f"amostrado {amostragem:.0%}", {
            "OTEL_SDK_DISABLED": "false", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": str(amostragem)})
    return todos


def comparacoes(amostragem: float | None) -> list[tuple[str, str, str]]:
    """As razões que a tabela imprime: (quem, contra quem, rótulo da coluna)."""
    return [("instrumentado", "desligado", "inst/desl"), ("instrumentado", "zero", "inst/zero"),
            *([("amostrado", "desligado", "amos/desl")] if amostragem is not None else [])]


def formatar(valor: float | None) -> str:
    return f"{valor:>11.3f}" if valor is not None else f"{'—':>11}"


def imprimir(concorrencia: int, resultados: dict[str, dict], amostragem: float | None) -> None:
    rotulos, razoes = modos(amostragem), comparacoes(amostragem)
    print(f"{concorrencia} cliente(s) simultâneo(s)")
    print(f"{'':24}" + "".join(f"{rotulos[modo][0]:>20}" for modo in rotulos)
          + "".join(f"{rotulo:>11}" for *_, rotulo in razoes))
    linhas = [("compras/s", "vazao"), ("p50 (ms)", "p50"), ("p95 (ms)", "p95"), ("p99 (ms)", "p99"),
              *((f"CPU ms/compra {nome}", f"cpu {nome}") for nome in SERVICOS)]
    for rotulo, chave in linhas:
        print(f"{rotulo:24}" + "".join(f"{resultados[modo][chave]:>20.2f}" for modo in rotulos)
              + "".join(formatar(razao(resultados[com][chave], resultados[base][chave])) for com, base, _ in razoes))
    cpu = {modo: cpu_total(resultados[modo]) for modo in rotulos}
    print(f"{'CPU ms/compra (3 serv.)':24}" + "".join(f"{cpu[modo]:>20.2f}" for modo in rotulos)
          + "".join(formatar(razao(cpu[com], cpu[base])) for com, base, _ in razoes))
    for com, base, _ in razoes:
        print(f"{rotulos[com][0]} contra {rotulos[base][0]}: vazão x{resultados[com]['vazao'] / resultados[base]['vazao']:.3f}, "
              f"{resultados[com]['p50'] - resultados[base]['p50']:+.1f} ms no p50")
    print("meta (contra SDK desligado): vazão >= 0,90 com 8 clientes; p50 <= +2,5 ms com 1 cliente\n", flush=True)


def telemetria_por_compra(receptor: ReceptorOTLP, compras: int) -> dict:
    """Quantas vezes cada peça medida em custo_por_peca aparece numa compra."""
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
    p = Parametros.do_ambiente()
    rotulos = modos(p.amostragem)
    print(f"{p.compras} compras por carga em {p.rodadas} rodadas alternadas, {p.workers} workers por serviço, "
          f"{os.cpu_count()} CPUs\n", flush=True)
    with ExitStack() as pilha:
        postgres = pilha.enter_context(PostgresEmbutido())
        # Um receptor por modo que exporta: a telemetria por compra de cada um não se mistura.
        receptores = {modo: pilha.enter_context(ReceptorOTLP()) for modo in ("instrumentado", "amostrado")
                      if modo in rotulos}
        # Os modos sem SDK não exportam nada; apontam para o receptor do instrumentado mesmo assim.
        destino = {modo: receptores.get(modo, receptores["instrumentado"]).ambiente() for modo in rotulos}
        labs = subir_todos(pilha, postgres, {modo: {**ambiente, **destino[modo]}
                                             for modo, (_, ambiente) in rotulos.items()}, p.workers)
        alvos = {modo: Alvo(lab) for modo, lab in labs.items()}
        for alvo in alvos.values():  # conexões, caches e JIT do PostgreSQL aquecidos antes de medir
            with ThreadPoolExecutor(8) as executor:
                list(executor.map(alvo.comprar, range(p.aquecimento)))
        resultados = {}
        for concorrencia in p.concorrencias:
            for _ in range(p.rodadas):
                for alvo in alvos.values():
                    alvo.carga(concorrencia, p.compras // p.rodadas, p.espera_do_lote)
            resultados[concorrencia] = {modo: alvo.resultado(concorrencia) for modo, alvo in alvos.items()}
            imprimir(concorrencia, resultados[concorrencia], p.amostragem)
        time.sleep(p.espera_do_lote + 0.8)  # o último lote chega aos receptores
        compras = p.aquecimento + sum(len(d) for d in alvos["instrumentado"].duracoes.values())
        por_compra = {modo: telemetria_por_compra(receptor, compras) for modo, receptor in receptores.items()}
        for modo, contagem in por_compra.items():
            print(f"telemetria por compra ({rotulos[modo][0]}): "
                  + ", ".join(f"{n} {nome.split(' (')[0]}" for nome, n in contagem.items()), flush=True)
        medicao = {"amostragem": p.amostragem, "compras": p.compras, "rodadas": p.rodadas,
                   "workers": str(p.workers), "telemetria_por_compra": por_compra}
        arquivo = medicoes.guardar(medicao, resultados, comparacoes(p.amostragem))
        print(f"\nmedição guardada em {arquivo}\n", flush=True)
        if p.so_a_carga:
            return 0  # sem o custo de cada peça (abaixo): a suíte de testes só confere a medição

        # De onde vem o custo: cada peça medida isolada, vezes quantas uma compra tem.
        receptor = receptores["instrumentado"]
        unitario = {modo: custo_por_peca.medir(modo, postgres.url(), receptor.ambiente()) for modo in ("sem", "com")}
        saturado = alvos["desligado"].resultado(max(p.concorrencias))
        custo_por_peca.imprimir(unitario["sem"], unitario["com"], por_compra["instrumentado"],
                                cpu_da_compra_ms=(os.cpu_count() or 1) * 1000 / saturado["vazao"])
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except config.ConfiguracaoInvalida as erro:
        print(f"✘ {erro}", file=sys.stderr)
        sys.exit(2)
