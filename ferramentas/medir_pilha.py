"""`make medir-pilha`: a memória do Collector, do Jaeger, do Prometheus, do VictoriaLogs, dos painéis
(VictoriaMetrics) e do visualizador de traces sob a carga de uma turma, medida, ao lado do orçamento de
cada um no docker-compose.yml (o visualizador só existe no make local: sem orçamento do compose, o pico
aparece para a conta da máquina).

Sobe um `make local` próprio com a pilha real (PILHA=real), em portas livres (o seu `make local`
continua intacto), com o que o compose impõe: o GOMEMLIMIT do Collector e do Jaeger, o
memory_limiter e o max_traces das configs (os mesmos arquivos). Roda a carga do `make carga`
(Locust, USUARIOS usuários, DURACAO) e lê no fim o pico de memória residente de cada processo
(VmHWM do /proc: o kernel guarda o maior RSS da vida do processo, nada escapa entre amostras).

O que isto NÃO mede: o limite do cgroup (não há Docker aqui). O RSS é o que o cgroup cobraria
desses processos, menos o cache de páginas de arquivos que o Prometheus escreve (o TSDB), que o
cgroup também conta e recupera sob pressão.
"""
import argparse
import os
import re
import sys
import time
from pathlib import Path

import yaml

from bookstore.config import RAIZ
from modo_local import pilha_real
from supervisao.filho import Filho
from supervisao.proc import pico_mib

from .laboratorio_proprio import LaboratorioProprio, NaoSubiu

SERVICO_NO_COMPOSE = {"otelcol": "otel-collector", "jaeger": "jaeger", "prometheus": "prometheus",
                      "victoria-logs": "victorialogs", "victoria-metrics": "paineis"}
SO_NO_MAKE_LOCAL = {"otel-desktop-viewer": "visualizador"}


def mib(texto: str) -> float:
    numero, unidade = re.fullmatch(r"(\d+)\s*([a-zA-Z]*)", str(texto)).groups()
    return int(numero) * {"": 1, "m": 1, "mb": 1, "mib": 1, "g": 1024, "gb": 1024, "gib": 1024}[unidade.lower()]


def processos_da_pilha(pasta_telemetria: Path) -> dict[str, int]:
    achados = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            nome = Path(os.readlink(f"/proc/{pid}/exe")).name
            ambiente = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        if nome in pilha_real.BINARIOS and f"TELEMETRIA_LOCAL_PASTA={pasta_telemetria}".encode() in ambiente:
            achados[nome] = int(pid)
    return achados


def orcamentos() -> dict[str, tuple[float, float | None]]:
    """{binário: (mem_limit, GOMEMLIMIT ou None)} em MiB, do docker-compose.yml."""
    servicos = yaml.safe_load((RAIZ / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    saida = {}
    for binario, nome in SERVICO_NO_COMPOSE.items():
        gomemlimit = servicos[nome].get("environment", {}).get("GOMEMLIMIT")
        saida[binario] = (mib(servicos[nome]["mem_limit"]), mib(gomemlimit) if gomemlimit else None)
    return saida


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ferramentas.medir_pilha", description=__doc__.splitlines()[0])
    parser.add_argument("--usuarios", type=int, default=30, help="usuários do Locust (padrão: 30, uma turma)")
    parser.add_argument("--duracao", default="120s", help="duração da carga (padrão: 120s)")
    args = parser.parse_args(argv)
    faltam = pilha_real.faltando()
    if faltam:
        print(f"✘ falta {', '.join(faltam)} em .ferramentas/bin/: {pilha_real.COMO_CONSTRUIR}", file=sys.stderr)
        return 2
    try:
        with LaboratorioProprio("medir-pilha-") as lab:
            pids = processos_da_pilha(lab.pasta)
            print(f"Carga: {args.usuarios} usuários por {args.duracao} (o make carga) contra uma pilha real própria…",
                  flush=True)
            inicio = time.monotonic()
            carga = Filho([Path(sys.executable).parent / "locust", "-f", "carga/locustfile.py", "--headless",
                           "--only-summary", "-u", args.usuarios, "-r", "2", "-t", args.duracao], cwd=RAIZ,
                          log=lab.pasta / "carga.log",
                          env={**lab.ambiente, "LIVROS_URL": lab.url("livros"), "ORDENS_URL": lab.url("ordens")})
            codigo_da_carga = carga.iniciar().esperar()
            segundos = time.monotonic() - inicio
            vivos = processos_da_pilha(lab.pasta)
            reinicios = [nome for nome in pids if vivos.get(nome) != pids[nome]]
            picos = {nome: pico_mib(pid) or 0.0 for nome, pid in vivos.items()}
    except NaoSubiu as erro:
        print(f"✘ {erro}", file=sys.stderr)
        return 1
    resumo = [linha for linha in carga.log.read_text(errors="replace").splitlines()
              if re.search(r"Aggregated|POST /ordens", linha)]
    print("\n".join(resumo[-3:]))
    print(f"\nPico de memória residente (VmHWM) em {segundos:.0f} s de carga, contra o orçamento do compose:")
    print(f"{'processo':<12} {'pico':>9} {'GOMEMLIMIT':>11} {'mem_limit':>10}  cabe?")
    falhou = False
    for nome, (limite, gomemlimit) in orcamentos().items():
        pico = picos.get(nome, 0.0)
        cabe = pico <= limite * 0.9  # 10% para o que o cgroup cobra além do RSS (page cache, kernel)
        falhou |= not cabe
        print(f"{SERVICO_NO_COMPOSE[nome]:<12} {pico:>6.0f} MiB {(f'{gomemlimit:.0f} MiB' if gomemlimit else '—'):>11} "
              f"{limite:>6.0f} MiB  {'✔' if cabe else '✘'} ({100 * pico / limite:.0f}% do limite)")
    for nome, rotulo in SO_NO_MAKE_LOCAL.items():
        print(f"{rotulo:<12} {picos.get(nome, 0.0):>6.0f} MiB {'—':>11} {'—':>10}  (só no make local)")
    if reinicios:
        print(f"✘ reiniciado(s) durante a carga (o pico é só da vida nova): {', '.join(reinicios)}")
    return 1 if falhou or reinicios or codigo_da_carga not in (0, 1) else 0


if __name__ == "__main__":
    sys.exit(main())
