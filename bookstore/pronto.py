"""`python -m bookstore.pronto`: o HEALTHCHECK da imagem. Sai com 0 se o /ready do serviço desta
imagem (SERVICO) responde 200 — a imagem slim não tem curl nem wget."""
import sys
import urllib.request

from bookstore import config, topologia


def main() -> int:
    servico = config.ler("SERVICO")
    porta = config.ler("PORT") or topologia.PROCESSOS[servico].porta
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{porta}{topologia.PROCESSOS[servico].pronto}", timeout=2)
    except OSError as erro:
        print(f"{servico} não está pronto: {erro}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
