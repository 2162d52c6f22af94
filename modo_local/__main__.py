"""`make local`: o laboratório inteiro sem Docker.

Sobe um PostgreSQL (embutido, ou o de POSTGRES_URL), cria os três bancos e
sobe livros, ordens e pagamentos em 127.0.0.1:8081-8083 com o mesmo comando
do Docker. Ctrl-C (ou SIGTERM) para tudo; os dados são apagados, a menos que
MANTER_DADOS=true (aí ficam em .dados-locais/ para a próxima vez).
"""
import os
import signal
import socket
import sys
import threading

from bookstore import config

from .postgres import PostgresEmbutido, PostgresExistente
from .servicos import PORTAS_PADRAO, RAIZ, Laboratorio


def porta_ocupada(porta: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", porta)) == 0


def main() -> int:
    ocupadas = [porta for porta in PORTAS_PADRAO.values() if porta_ocupada(porta)]
    if ocupadas:
        print(f"As portas {ocupadas} já estão em uso (o compose está no ar? `docker compose down`).",
              file=sys.stderr)
        return 1

    manter = config.booleano("MANTER_DADOS", False)
    if os.environ.get("POSTGRES_URL"):
        postgres = PostgresExistente(os.environ["POSTGRES_URL"])
    else:
        postgres = PostgresEmbutido(pasta=RAIZ / ".dados-locais" if manter else None)

    # O laboratório é para os exercícios: admin ligado, como no compose.
    ambiente = {"ADMIN_HABILITADO": os.environ.get("ADMIN_HABILITADO", "true")}
    encerrar = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: encerrar.set())
    signal.signal(signal.SIGINT, lambda *_: encerrar.set())

    with postgres:
        print(f"PostgreSQL em {postgres.url()}")
        with Laboratorio(postgres, ambiente=ambiente):
            print("\nLaboratório pronto:")
            for nome, porta in PORTAS_PADRAO.items():
                print(f"  {nome:<11} http://127.0.0.1:{porta}")
            print("\nExperimente:  curl -s http://127.0.0.1:8081/livros\n"
                  "Ctrl-C para parar.\n", flush=True)
            encerrar.wait()
            print("\nParando os serviços...", flush=True)
    print("Tudo parado." + (" Dados mantidos em .dados-locais/." if manter else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
