"""`python -m telemetria_local.servidor`: o receptor do `make local`, no processo dele.

O receptor, o armazém e o resumo ao vivo rodam aqui, e não no lançador do `make
local`, para que a queda deles não seja a queda do laboratório: se um cliente
conseguir esgotar a memória (ou um defeito derrubar este processo), o kernel mata
este processo — não o lançador, que segura os serviços e o PostgreSQL. O lançador
(`processo.ReceptorEmProcesso`) sobe outro no lugar.

    python -m telemetria_local.servidor --porta-http 4318 --porta-grpc 4317 [--pasta .telemetria]

SIGTERM (ou Ctrl-C, rodando à mão) para: imprime os traces que esperavam e sai.
"""
import argparse
import signal
import sys
import threading
from pathlib import Path

from bookstore import config

from .ao_vivo import ResumoAoVivo
from .armazem import Armazem
from .receptor import ReceptorOTLP


def primeiro_a_morrer() -> None:
    """Se faltar memória na máquina, que o kernel escolha este processo antes do PostgreSQL e dos
    serviços: ele é o que recebe dados de fora, e o lançador o sobe de novo."""
    try:
        Path("/proc/self/oom_score_adj").write_text("500")
    except OSError:
        pass  # fora do Linux, ou sem permissão: só perde a preferência


def mais_descritores() -> None:
    """Cada conexão é um descritor de arquivo, e o limite comum (1024) é baixo para um servidor:
    sobe o limite flexível até o rígido, como servidores costumam fazer (o receptor também tem o
    seu teto de conexões, `servidor_http.Limites.conexoes`)."""
    try:
        import resource
        flexivel, rigido = resource.getrlimit(resource.RLIMIT_NOFILE)
        alvo = 65536 if rigido == resource.RLIM_INFINITY else min(rigido, 65536)
        if flexivel != resource.RLIM_INFINITY and flexivel < alvo:
            resource.setrlimit(resource.RLIMIT_NOFILE, (alvo, rigido))
    except (ImportError, ValueError, OSError):
        pass


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m telemetria_local.servidor", description=__doc__.split("\n")[0])
    # Sem valor, as da topologia (PORTA_OTLP_HTTP e PORTA_OTLP_GRPC, ou as do Collector).
    parser.add_argument("--porta-http", type=int, default=None)
    parser.add_argument("--porta-grpc", type=int, default=None)
    parser.add_argument("--pasta", type=Path, default=None, help="o armazém (padrão: .telemetria/)")
    args = parser.parse_args(argv)
    porta_http = args.porta_http or config.porta("otlp-http")
    porta_grpc = args.porta_grpc or config.porta("otlp-grpc")
    primeiro_a_morrer()
    mais_descritores()

    parar = threading.Event()
    for sinal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sinal, lambda *_: parar.set())
    resumo = ResumoAoVivo().iniciar()
    receptor = ReceptorOTLP(porta_http=porta_http, porta_grpc=porta_grpc, em_memoria=False,
                            consumidores=[Armazem(args.pasta), resumo])
    try:
        receptor.iniciar()
    except OSError as erro:
        print(f"✘ receptor OTLP: {erro}", file=sys.stderr, flush=True)
        return 1
    try:
        parar.wait()
    finally:
        receptor.parar()
        resumo.parar()
    return 0


if __name__ == "__main__":
    sys.exit(main())
