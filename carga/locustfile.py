"""Gerador de carga do laboratório (Locust, como o OpenTelemetry Demo).

    make carga                                  # 10 usuários, 60 s, sem interface
    make carga USUARIOS=30 TAXA=5 DURACAO=2m    # mais gente, chegando 5 por segundo
    make carga BASE_URL=http://127.0.0.1:8080   # pelo gateway (GATEWAY=true make local)
    docker compose --profile carga up -d        # com a interface web em http://localhost:8089

O que um usuário faz, em proporção (pesos das tarefas abaixo): quase sempre olha o
catálogo e compra com sucesso; às vezes compra sem estoque, com o cartão recusado ou
um livro que não existe; às vezes consulta as próprias ordens. Assim aparecem no
Jaeger traces de todos os tipos — e no Prometheus, taxas de erro que fazem sentido.

A carga compra livros próprios, criados no início com estoque grande: o catálogo
inicial (que os exercícios usam) não se esgota. Sempre com prazo: no `make carga`
o padrão é 60 s; na interface web, você para quando quiser.
"""
import os
import random
import time

import gevent
from locust import HttpUser, between, events, task

# BASE_URL: uma entrada só para tudo, como o gateway (`make carga BASE_URL=http://127.0.0.1:8080`).
BASE_URL = os.environ.get("BASE_URL", "").rstrip("/")
LIVROS_URL = BASE_URL or os.environ.get("LIVROS_URL", "http://127.0.0.1:8081")
ORDENS_URL = BASE_URL or os.environ.get("ORDENS_URL", "http://127.0.0.1:8082")
CARTAO_APROVADO = "4111111111111111"
CARTAO_RECUSADO = "4000000000000002"
LIVRO_INEXISTENTE = 2_000_000_000
livros_da_carga: list[int] = []
livro_escasso: list[int] = []


@events.test_start.add_listener
def criar_livros(environment, **_):
    """Livros só da carga: cinco com estoque de sobra e um com um exemplar só."""
    import requests  # fora dos usuários: roda uma vez, antes de todos

    def criar(titulo: str, estoque: int) -> int:
        resposta = requests.post(f"{LIVROS_URL}/livros", timeout=10,
                                 json={"titulo": titulo, "autor": "Locust", "preco": 25, "estoque": estoque})
        resposta.raise_for_status()
        return resposta.json()["id"]

    livros_da_carga[:] = [criar(f"Livro da carga {n}", 1_000_000) for n in range(1, 6)]
    livro_escasso[:] = [criar("Livro da carga (esgota)", 1)]
    gevent.spawn(mostrar_progresso, environment)


def mostrar_progresso(environment, intervalo: float = 5.0):
    """Uma linha a cada 5 s (no lugar das tabelas do Locust, que o `make carga` desliga)."""
    inicio = time.monotonic()
    while environment.runner and environment.runner.state not in ("stopping", "stopped", "quitting"):
        gevent.sleep(intervalo)
        total = environment.stats.total
        print(f"carga: {time.monotonic() - inicio:4.0f} s · {environment.runner.user_count} usuários · "
              f"{total.num_requests} requisições · {total.current_rps:.1f}/s · {total.num_failures} falhas",
              flush=True)


class Aluno(HttpUser):
    host = ORDENS_URL
    wait_time = between(0.5, 2)

    def comprar(self, nome: str, itens: list[dict], esperado: int, cartao: str = CARTAO_APROVADO):
        """POST /ordens; `esperado` é o status certo para o cenário (402 e 409 não são falhas aqui)."""
        with self.client.post(f"{ORDENS_URL}/ordens", json={"itens": itens, "cartao": cartao, "cliente": "carga"},
                              name=nome, catch_response=True) as resposta:
            if resposta.status_code == esperado:
                resposta.success()
            else:
                resposta.failure(f"esperava {esperado}, veio {resposta.status_code}: {resposta.text[:200]}")

    @task(10)
    def compra_concluida(self):
        itens = [{"livro_id": livro, "quantidade": random.randint(1, 2)}
                 for livro in random.sample(livros_da_carga, random.randint(1, 2))]
        self.comprar("compra concluída (201)", itens, 201)

    @task(1)
    def compra_sem_estoque(self):
        self.comprar("compra sem estoque (409)", [{"livro_id": livro_escasso[0], "quantidade": 2}], 409)

    @task(1)
    def cartao_recusado(self):
        self.comprar("cartão recusado (402)", [{"livro_id": livros_da_carga[0], "quantidade": 1}], 402,
                     cartao=CARTAO_RECUSADO)

    @task(1)
    def livro_desconhecido(self):
        self.comprar("livro desconhecido (422)", [{"livro_id": LIVRO_INEXISTENTE, "quantidade": 1}], 422)

    @task(3)
    def ver_catalogo(self):
        self.client.get(f"{LIVROS_URL}/livros", name="GET /livros")

    @task(2)
    def ver_ordens(self):
        self.client.get(f"{ORDENS_URL}/ordens?limite=10", name="GET /ordens")
