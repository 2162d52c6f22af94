"""Caos: compras concorrentes enquanto um cronograma de falhas dispara, e depois a conta.

Usado pelo teste `tests/test_caos.py` (curto) e por `make caos` (mais longo, com a
tabela impressa, para o instrutor mostrar a saga sobrevivendo). As falhas:

- matar_worker      SIGKILL num worker do gunicorn (o master sobe outro);
- derrubar_conexoes pg_terminate_backend em todas as conexões dos três bancos;
- latencia          /admin/falhas com latência acima do timeout de quem chama;
- lentidao          latência abaixo do timeout: a dependência responde, devagar
                    (a compensação demora, e a recuperação passa por ela no meio);
- erros             /admin/falhas com metade das requisições respondendo 500;
- matar_broker      (só na compra por mensagens) SIGKILL no RabbitMQ: ele volta sozinho, e o que foi
                    publicado enquanto isso espera nas outboxes.

Depois da conta nos bancos, a do disco: nenhum número de cartão inteiro em arquivo nenhum (bancos e WAL,
broker, logs).

Tudo sai de uma semente: o cronograma, os livros, os cartões. Os processos e a
rede não são determinísticos, então a mesma semente dá as mesmas falhas nas mesmas
horas, não os mesmos resultados — por isso a verificação não conta resultados:
confere invariantes que valem qualquer que seja a ordem dos acontecimentos.
"""
import os
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from bookstore import config, topologia
from modo_local.mensageiros import Mensageiros
from modo_local.postgres import PostgresEmbutido
from supervisao.portas import porta_livre
from supervisao.proc import filhos
from modo_local.rabbitmq import RabbitMQLocal
from modo_local.servicos import Laboratorio

from .invariantes import cartoes_em_disco, esperar_ordens_terminarem, verificar_invariantes

SERVICOS = topologia.SERVICOS
SEMENTE_PADRAO = config.VARIAVEIS["CAOS_SEMENTE"].padrao
TIPOS_DE_FALHA = ("matar_worker", "lentidao", "derrubar_conexoes", "latencia", "erros")
# Na compra por mensagens, o broker morre logo no começo do rodízio (o teste curto também o vê) e volta em ~6 s.
TIPOS_DE_FALHA_POR_MENSAGENS = ("matar_worker", "matar_broker", *TIPOS_DE_FALHA[1:])
CARTOES = (("4111111111111111", 6), ("5555555555554444", 2), ("4000000000000002", 3))
TIMEOUT_DAS_DEPENDENCIAS = 2.0
# Cada falha de janela (latência, erros) dura isto e é desligada.
JANELA_SEGUNDOS = 2.0
ABANDONO_SEGUNDOS = 10
LIVROS = 6
# Estoque que não acaba no meio: o caminho inteiro da saga (cobrar, confirmar) roda o tempo todo.
EXEMPLARES_POR_LIVRO = 400

def ambiente_do_laboratorio() -> dict:
    """Timeouts curtos para a latência injetada virar timeout, e um abandono acima do
    maior intervalo entre duas escritas de uma saga viva (a compensação: até três
    chamadas × 2 s, mais a espera por conexão), mas curto o bastante para o teste."""
    return {
        "WEB_CONCURRENCY": "2", "CATALOGO_INICIAL": "false", "ADMIN_HABILITADO": "true",
        "LIVROS_TIMEOUT_SEGUNDOS": str(TIMEOUT_DAS_DEPENDENCIAS),
        "PAGAMENTOS_TIMEOUT_SEGUNDOS": str(TIMEOUT_DAS_DEPENDENCIAS),
        "ORDENS_ABANDONO_SEGUNDOS": str(ABANDONO_SEGUNDOS),
        "ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS": "1",
        # Uma requisição presa morre antes do abandono: nenhuma cobrança chega depois dele.
        "GUNICORN_TIMEOUT": "5",
        "DB_POOL_ESPERA_SEGUNDOS": "2",
    }


@dataclass(frozen=True)
class Falha:
    em_segundos: float
    tipo: str
    servico: str


def cronograma(semente: int, duracao_segundos: float, tipos=TIPOS_DE_FALHA) -> list[Falha]:
    """Uma falha a cada 1,5–3 s; os tipos se revezam, o serviço é sorteado."""
    sorteio = random.Random(semente)
    falhas, instante = [], 1.0
    while instante < duracao_segundos - JANELA_SEGUNDOS:
        tipo = tipos[len(falhas) % len(tipos)]
        falhas.append(Falha(round(instante, 2), tipo, sorteio.choice(SERVICOS)))
        instante += sorteio.uniform(1.5, 3.0)
    return falhas


class Caos:
    def __init__(self, lab: Laboratorio, semente: int = SEMENTE_PADRAO, entrada: str | None = None,
                 mensageiros=None, broker: RabbitMQLocal | None = None):
        self.lab = lab
        # Na compra por mensagens (ORDENS_SAGA=mensagens), os mensageiros de cada serviço e o broker também
        # morrem.
        self.mensageiros, self.broker = mensageiros, broker
        self.tipos = TIPOS_DE_FALHA_POR_MENSAGENS if broker else TIPOS_DE_FALHA
        # Onde os compradores compram: ordens, ou o gateway na frente das réplicas.
        self.entrada = entrada
        self.semente = semente
        self.sorteio = random.Random(semente)
        self.iniciais: dict[int, int] = {}
        self.respostas: Counter = Counter()
        self.disparadas: Counter = Counter()
        self._trava = threading.Lock()

    # --- preparação ---------------------------------------------------------------
    def criar_livros(self) -> None:
        for numero in range(LIVROS):
            resposta = requests.post(self.lab.url("livros") + "/livros", timeout=10, json={
                "titulo": f"Livro do caos {numero + 1}", "preco": 10 + numero,
                "estoque": EXEMPLARES_POR_LIVRO})
            resposta.raise_for_status()
            self.iniciais[resposta.json()["id"]] = EXEMPLARES_POR_LIVRO

    # --- compras ------------------------------------------------------------------
    def _comprador(self, numero: int, fim: float) -> None:
        sorteio = random.Random(self.semente * 100 + numero)
        cartoes, pesos = zip(*CARTOES)
        sessao = requests.Session()
        while time.monotonic() < fim:
            corpo = {"itens": [{"livro_id": sorteio.choice(list(self.iniciais)),
                                "quantidade": sorteio.choice((1, 1, 2))}],
                     "cartao": sorteio.choices(cartoes, pesos)[0], "cliente": f"comprador {numero}"}
            cabecalhos = {"Idempotency-Key": str(uuid.UUID(int=sorteio.getrandbits(128)))}
            try:
                codigo = sessao.post((self.entrada or self.lab.url("ordens")) + "/ordens", json=corpo, headers=cabecalhos,
                                     timeout=15).status_code
            except requests.RequestException as erro:
                codigo = type(erro).__name__  # ex.: o worker que atendia morreu
            with self._trava:
                self.respostas[codigo] += 1

    # --- falhas ---------------------------------------------------------------------
    def _falhas_admin(self, servico: str, **falha) -> None:
        corpo = {"latencia_ms": 0, "taxa_erro": 0, **falha}
        for _ in range(5):  # o próprio serviço pode estar sob falha: tenta de novo
            try:
                if requests.put(self.lab.url(servico) + "/admin/falhas", json=corpo, timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)

    def disparar(self, falha: Falha) -> None:
        self.disparadas[falha.tipo] += 1
        if falha.tipo == "matar_worker":
            workers = filhos(self.lab.processos[falha.servico].pid)
            if workers:
                os.kill(self.sorteio.choice(sorted(workers)), signal.SIGKILL)
            mensageiros = self.mensageiros.pids(falha.servico) if self.mensageiros else []
            if mensageiros:  # kill -9 no meio de uma mensagem: ela volta para a fila sem ack
                os.kill(self.sorteio.choice(sorted(mensageiros)), signal.SIGKILL)
        elif falha.tipo == "matar_broker":
            os.kill(self.broker.processo.pid, signal.SIGKILL)  # o vigia dele o sobe de novo
        elif falha.tipo == "derrubar_conexoes":
            for servico in SERVICOS:
                derrubar_conexoes(self.lab.postgres, self.lab.bancos[servico])
        else:
            injetar = {"latencia": {"latencia_ms": int(TIMEOUT_DAS_DEPENDENCIAS * 1000 + 500)},
                       "lentidao": {"latencia_ms": int(TIMEOUT_DAS_DEPENDENCIAS * 600)},
                       "erros": {"taxa_erro": 0.5}}[falha.tipo]
            self._falhas_admin(falha.servico, **injetar)
            threading.Timer(JANELA_SEGUNDOS, self._falhas_admin, (falha.servico,)).start()

    def rodar(self, duracao_segundos: float, compradores: int = 8) -> None:
        inicio = time.monotonic()
        fim = inicio + duracao_segundos
        threads = [threading.Thread(target=self._comprador, args=(n, fim)) for n in range(compradores)]
        for thread in threads:
            thread.start()
        for falha in cronograma(self.semente, duracao_segundos, self.tipos):
            time.sleep(max(0.0, inicio + falha.em_segundos - time.monotonic()))
            self.disparar(falha)
        for thread in threads:
            thread.join()
        time.sleep(JANELA_SEGUNDOS)  # as janelas abertas fecham
        for servico in SERVICOS:
            self._falhas_admin(servico)

    def esperar_recuperacao(self, limite_segundos: float = ABANDONO_SEGUNDOS + 20) -> int:
        """Espera a recuperação terminar as compensações; devolve quantas ordens sobraram."""
        return esperar_ordens_terminarem(self.lab, limite_segundos)

    def verificar(self) -> list[tuple[str, int, list]]:
        """As invariantes dos bancos e a do disco: as pastas dos bancos (com o WAL), a do broker e os logs."""
        pastas = [p for p in (getattr(self.lab.postgres, "raiz", None), self.lab.pasta_logs,
                              self.broker.pasta if self.broker else None) if p]
        return [*verificar_invariantes(self.lab, self.iniciais),
                cartoes_em_disco(pastas, [numero for numero, _ in CARTOES])]


# --- bancos ---------------------------------------------------------------------------
def derrubar_conexoes(postgres, url_do_banco: str) -> None:
    banco = url_do_banco.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(), autocommit=True) as conexao:
        conexao.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid()", (banco,))



def imprimir(caos: Caos, invariantes) -> None:
    print(f"\nsemente {caos.semente}; falhas disparadas: "
          + ", ".join(f"{tipo} {n}" for tipo, n in sorted(caos.disparadas.items())))
    print("respostas de POST /ordens: " + ", ".join(f"{codigo}: {n}" for codigo, n in sorted(
        caos.respostas.items(), key=lambda item: str(item[0]))))
    print(f"\n{'invariante':<74}{'casos':>7}  resultado")
    for nome, casos, violacoes in invariantes:
        print(f"{nome:<74}{casos:>7}  {'✔' if not violacoes else f'✘ {len(violacoes)} violações'}")
        for violacao in violacoes[:10]:
            print(f"    {violacao}")


def main() -> int:
    duracao = config.ler("CAOS_SEGUNDOS")
    semente = config.ler("CAOS_SEMENTE")
    print(f"make caos: {duracao:.0f} s de compras com falhas (semente {semente}), num laboratório próprio "
          "em portas livres.", flush=True)
    ambiente = ambiente_do_laboratorio()
    if not config.ler("OTEL_EXPORTER_OTLP_ENDPOINT"):
        ambiente["OTEL_SDK_DISABLED"] = "true"  # com o endpoint definido, os traces vão para o seu Jaeger
    por_mensagens = config.ler("ORDENS_SAGA") == "mensagens"
    with ExitStack() as pilha:
        postgres = pilha.enter_context(PostgresEmbutido())
        logs = Path(pilha.enter_context(tempfile.TemporaryDirectory(prefix="bookstore-caos-")))
        if por_mensagens:  # a compra pelo RabbitMQ: um broker próprio, em porta livre, e os mensageiros
            broker = pilha.enter_context(RabbitMQLocal(porta_livre()))
            ambiente.update(ORDENS_SAGA="mensagens")
            print(f"compra por mensagens: RabbitMQ em amqp://127.0.0.1:{broker.porta}", flush=True)
        lab = Laboratorio(postgres, portas={s: porta_livre() for s in SERVICOS}, ambiente=ambiente, pasta_logs=logs)
        pilha.enter_context(lab)
        mensageiros = pilha.enter_context(Mensageiros(lab, broker.ambientes(), 2)) if por_mensagens else None
        caos = Caos(lab, semente, mensageiros=mensageiros, broker=broker if por_mensagens else None)
        caos.criar_livros()
        caos.rodar(duracao)
        print("compras encerradas; esperando a recuperação terminar as compensações...", flush=True)
        caos.esperar_recuperacao()
        invariantes = caos.verificar()
        imprimir(caos, invariantes)
    return 0 if all(not violacoes for _, _, violacoes in invariantes) else 1


if __name__ == "__main__":
    sys.exit(main())
