"""`python -m bookstore.segredos <pasta> [--dono <uid>]`: os segredos do laboratório no compose, sorteados
uma vez, antes de quem os usa subir (o serviço `segredos` do docker-compose.yml):

- os usuários do broker (bookstore/mensageria/acessos.py): `<pasta>/<usuário>/senha` e as definições
  que o RabbitMQ carrega, `<pasta>/broker/definicoes.json`;
- o par de chaves do cartão selado (bookstore/cartao.py): `<pasta>/cartao-privada/chave.pem`, só de
  pagamentos, e `<pasta>/cartao-publica/chave.pem`, de ordens.

Cada subpasta é um volume no compose, montado só por quem precisa dela. Rodar de novo não troca nada
que já existe (as senhas guardadas no broker e os cartões selados em ordens continuam valendo); só as
definições são regravadas. `--dono`: o usuário do sistema que lê os arquivos secretos (o compose roda
isto como root, porque os volumes nascem do root, e os serviços como o usuário da imagem).
O `make local` faz o mesmo nas pastas dele (modo_local/rabbitmq.py, modo_local/servicos.py).
"""
import sys
from pathlib import Path

from bookstore import cartao, config, mensagens
from bookstore.mensageria import acessos

CHAVE_PRIVADA = Path("cartao-privada") / "chave.pem"
CHAVE_PUBLICA = Path("cartao-publica") / "chave.pem"


def preparar(pasta: Path, dono: int | None = None) -> None:
    acessos.preparar(pasta, mensagens.usuarios_do_broker(), mensagens.filas_do_laboratorio(),
                     config.ler("MENSAGENS_TENTATIVAS"), dono)
    cartao.gerar_chaves(pasta / CHAVE_PRIVADA, pasta / CHAVE_PUBLICA, dono)


def main(argumentos: list[str]) -> int:
    if len(argumentos) not in (1, 3) or (len(argumentos) == 3 and argumentos[1] != "--dono"):
        print("uso: python -m bookstore.segredos <pasta> [--dono <uid>]", file=sys.stderr)
        return 2
    pasta = Path(argumentos[0])
    preparar(pasta, int(argumentos[2]) if len(argumentos) == 3 else None)
    print(f"segredos em {pasta}: senhas do broker em <usuário>/senha, definições em broker/definicoes.json, "
          f"chaves do cartão em {CHAVE_PRIVADA.parent}/ e {CHAVE_PUBLICA.parent}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
