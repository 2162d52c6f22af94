"""Quem entra no broker e o que pode fazer lá: as definições que o RabbitMQ carrega ao subir.

O broker não tem usuário padrão (o `guest` não nasce quando há definições a carregar no boot). Cada
serviço tem o seu usuário, com o nome do serviço e uma senha sorteada, e só pode:
- consumir a própria fila (permissão `read` só nela);
- publicar no exchange da compra (`write` só nele) e, dentro dele, só as routing keys das mensagens
  que o contrato diz que ele manda (as permissões de tópico do RabbitMQ);
- configurar nada: exchanges, filas e ligações vêm nas mesmas definições (filas.py), e um serviço não
  declara nem apaga fila nenhuma.
Um usuário `admin` (tag administrator, permissão total) é o do instrutor e dos testes: a interface de
gestão no compose, filas espiãs, republicar da fila de mortas.

Quem manda cada mensagem é conferido duas vezes: o relay publica com a propriedade `user_id` = o
usuário da conexão, e o broker recusa (PRECONDITION_FAILED) um `user_id` que não é o de quem conectou;
o consumidor recusa, para a fila de mortas, a mensagem cujo `user_id` não é de quem o contrato diz que
a manda (inclusive a publicada sem `user_id`, por um admin ou pela interface de gestão).

As senhas ficam em `<pasta>/<usuário>/senha` (só o dono lê), sorteadas uma vez e reaproveitadas, e as
definições em `<pasta>/broker/definicoes.json` (só os hashes das senhas). O `make local` faz isso na
pasta temporária do broker dele; no compose, o serviço `segredos` (bookstore/segredos.py) faz o mesmo
em volumes, antes do broker subir.
"""
import base64
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from . import filas

ADMINISTRADOR = "admin"
# O algoritmo padrão do RabbitMQ (rabbit_password_hashing_sha256): base64(sal de 4 bytes + SHA-256(sal + senha)).
ALGORITMO_DO_HASH = "rabbit_password_hashing_sha256"


@dataclass(frozen=True)
class Usuario:
    nome: str              # o nome do serviço: é o `user_id` das mensagens que ele manda
    fila: str              # a única que ele consome
    publica: tuple[str, ...]  # as routing keys que ele pode publicar


def hash_da_senha(senha: str) -> str:
    sal = os.urandom(4)
    return base64.b64encode(sal + hashlib.sha256(sal + senha.encode()).digest()).decode()


def _so_estes(nomes) -> str:
    """Uma expressão regular que casa exatamente estes nomes (o RabbitMQ casa as permissões com re)."""
    return "^(" + "|".join(re.escape(nome) for nome in nomes) + ")$" if nomes else "^$"


def definicoes(usuarios: list[Usuario], senhas: dict[str, str], todas_as_filas: dict[str, str], tentativas: int,
               vhost: str = "/") -> dict:
    """As definições de um vhost: usuários, permissões e a topologia (filas.definicoes)."""
    def usuario(nome: str, tags: list[str]) -> dict:
        return {"name": nome, "password_hash": hash_da_senha(senhas[nome]), "hashing_algorithm": ALGORITMO_DO_HASH,
                "tags": tags}

    def permissao(nome: str, configurar: str, escrever: str, ler: str) -> dict:
        return {"user": nome, "vhost": vhost, "configure": configurar, "write": escrever, "read": ler}

    return {
        "vhosts": [{"name": vhost}],
        "users": [usuario(ADMINISTRADOR, ["administrator"]), *(usuario(u.nome, []) for u in usuarios)],
        "permissions": [permissao(ADMINISTRADOR, ".*", ".*", ".*"),
                        *(permissao(u.nome, "^$", _so_estes([filas.EXCHANGE]), _so_estes([u.fila]))
                          for u in usuarios)],
        "topic_permissions": [{"user": u.nome, "vhost": vhost, "exchange": filas.EXCHANGE,
                               "write": _so_estes(u.publica), "read": ".*"} for u in usuarios],
        **filas.definicoes(todas_as_filas, tentativas, vhost),
    }


def senhas(pasta: Path, nomes, dono: int | None = None) -> dict[str, str]:
    """A senha de cada usuário: a de `<pasta>/<nome>/senha`, ou uma sorteada e gravada lá (0600; do
    usuário `dono` do sistema, se dado)."""
    encontradas = {}
    for nome in nomes:
        arquivo = pasta / nome / "senha"
        if not arquivo.exists():
            arquivo.parent.mkdir(parents=True, exist_ok=True)
            descritor = os.open(arquivo, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descritor, "w") as saida:
                saida.write(secrets.token_urlsafe(24))
            if dono is not None:
                os.chown(arquivo, dono, dono)
        encontradas[nome] = arquivo.read_text().strip()
    return encontradas


def preparar(pasta: Path, usuarios: list[Usuario], todas_as_filas: dict[str, str], tentativas: int,
             dono: int | None = None) -> dict[str, str]:
    """Grava as senhas (as que faltam) e as definições; devolve {usuário: senha}."""
    todas = senhas(pasta, [ADMINISTRADOR, *(u.nome for u in usuarios)], dono)
    arquivo = pasta / "broker" / "definicoes.json"
    arquivo.parent.mkdir(parents=True, exist_ok=True)
    arquivo.write_text(json.dumps(definicoes(usuarios, todas, todas_as_filas, tentativas), indent=2) + "\n")
    return todas
