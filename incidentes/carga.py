"""A carga leve de fundo de um incidente: uma compra a cada meio segundo, de livros e cartões variados.

Visível como carga (compras de clientes "game-day"), nunca como a causa: sem baggage, sem falha injetada.
Roda num processo à parte (`python -m incidentes.carga`) e para sozinha quando o incidente acaba (o
incidente.json some), quando o make local para, ou depois de TETO_SEGUNDOS — nunca fica vendendo para sempre.
"""
import random
import time

import requests

from bookstore import config
from modo_local import registro

from . import estado

INTERVALO_SEGUNDOS = 0.5
TETO_SEGUNDOS = 45 * 60
# Livros só da carga, com estoque de sobra (como os do make carga): o catálogo do aluno não se esgota.
TITULOS = ("Manual do Plantão", "Diário de Bordo", "Relatório de Incidente")
ESTOQUE = 100_000
# Aprova, aprova (a faixa 4444), recusa (final 0002: um desfecho do negócio, não uma falha).
CARTOES = ("4111111111111111", "4111111111111111", "5555555555554444", "4000000000000002")


def criar_livros() -> list[int]:
    return [requests.post(config.url("livros") + "/livros", timeout=10, json={
        "titulo": titulo, "autor": "Equipe de Plantão", "preco": 30, "estoque": ESTOQUE}).json()["id"]
        for titulo in TITULOS]


def main() -> None:
    sorteio = random.Random()
    livros = criar_livros()
    fim = time.monotonic() + TETO_SEGUNDOS
    while estado.ler() is not None and registro.ler() is not None and time.monotonic() < fim:
        corpo = {"itens": [{"livro_id": sorteio.choice(livros), "quantidade": 1}],
                 "cliente": "game-day", "cartao": sorteio.choice(CARTOES)}
        try:
            requests.post(config.url("ordens") + "/ordens", json=corpo, timeout=10)
        except requests.RequestException:
            pass  # o laboratório reiniciando: a próxima volta tenta de novo
        time.sleep(INTERVALO_SEGUNDOS)


if __name__ == "__main__":
    main()
