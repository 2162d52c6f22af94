"""Laboratórios lado a lado na mesma máquina, e uma carga de compras contra cada um.

O `make bench` sobe um por modo de telemetria e alterna a mesma carga entre eles; o
`make perfil` sobe um e amostra os workers enquanto ele compra. Cada laboratório tem
portas livres e bancos próprios, então nada disso encosta no `make local` do aluno.
"""
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import requests

from bookstore import topologia
from supervisao.portas import porta_livre
from supervisao.proc import cpu_segundos
from modo_local.servicos import Laboratorio


def percentil(valores, p):
    ordenados = sorted(valores)
    return ordenados[min(len(ordenados) - 1, int(round(p / 100 * (len(ordenados) - 1))))]


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

    def cpu_agora(self) -> dict[str, float]:
        return {nome: cpu_segundos(self.lab.processos[nome].pid) for nome in topologia.SERVICOS}

    def carga(self, concorrencia: int, compras: int, espera_do_lote: float) -> None:
        """`espera_do_lote`: depois da carga, o tempo de as threads de exportação mandarem o
        último lote — a CPU dele entra na conta desta carga."""
        antes = self.cpu_agora()
        with ThreadPoolExecutor(concorrencia) as executor:
            inicio = time.perf_counter()
            duracoes = list(executor.map(self.comprar, range(compras)))
            self.tempo_total[concorrencia] = self.tempo_total.get(concorrencia, 0) + time.perf_counter() - inicio
        time.sleep(espera_do_lote)
        depois = self.cpu_agora()
        cpu = self.cpu.setdefault(concorrencia, dict.fromkeys(topologia.SERVICOS, 0.0))
        for nome in topologia.SERVICOS:
            cpu[nome] += depois[nome] - antes[nome]
        self.duracoes.setdefault(concorrencia, []).extend(duracoes)

    def resultado(self, concorrencia: int) -> dict:
        ms = [d * 1000 for d in self.duracoes[concorrencia]]
        compras = len(ms)
        return {"vazao": compras / self.tempo_total[concorrencia], "p50": statistics.median(ms),
                "p95": percentil(ms, 95), "p99": percentil(ms, 99),
                **{f"cpu {nome}": self.cpu[concorrencia][nome] * 1000 / compras for nome in topologia.SERVICOS}}


def parar_todos(labs: dict[str, Laboratorio]) -> None:
    with ThreadPoolExecutor(max(1, len(labs))) as executor:
        list(executor.map(Laboratorio.parar, labs.values()))


def subir_todos(pilha: ExitStack, postgres, ambientes: dict[str, dict], workers: int) -> dict[str, Laboratorio]:
    """Um laboratório por ambiente, lançados juntos e esperados depois; no fim, param juntos."""
    base = {"CATALOGO_INICIAL": "false", "WEB_CONCURRENCY": str(workers)}
    labs = {}
    pilha.callback(parar_todos, labs)  # registrado antes: o que já subiu para mesmo se outro falhar
    for nome, ambiente in ambientes.items():
        portas = {servico: porta_livre() for servico in topologia.SERVICOS}
        labs[nome] = Laboratorio(postgres, portas=portas, ambiente={**base, **ambiente},
                                 pasta_logs=Path(tempfile.mkdtemp(prefix=f"bench-{nome}-")),
                                 prefixo_bancos=f"bench_{nome}_").iniciar(recriar_bancos=True, esperar=False)
    for lab in labs.values():
        lab.esperar_prontos()
    return labs
