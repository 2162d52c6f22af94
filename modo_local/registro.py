"""O que o `make local` no ar anota para as ferramentas que agem sobre ele: `laboratorio.json`, na pasta da
telemetria (.telemetria/, ou TELEMETRIA_LOCAL_PASTA).

O PostgreSQL embutido sobe numa porta livre com uma senha sorteada; quem precisa mexer nos bancos do
laboratório que está rodando (o `make incidente`, incidentes/) lê daqui as URLs de cada banco e o pid do
lançador (que diz se o arquivo é de um make local ainda vivo). Só o dono lê o arquivo (tem a senha), e ele
some quando o make local para.
"""
import json
import os
from contextlib import contextmanager
from pathlib import Path

from telemetria_local.armazem import pasta_padrao

ARQUIVO = "laboratorio.json"


def caminho(pasta: Path | None = None) -> Path:
    return Path(pasta or pasta_padrao()) / ARQUIVO


@contextmanager
def anotado(bancos: dict[str, str], **modo):
    """`with anotado(lab.bancos, mensagens=…, gateway=…, pilha=…):` o arquivo existe enquanto o bloco roda."""
    arquivo = caminho()
    arquivo.parent.mkdir(parents=True, exist_ok=True)
    descritor = os.open(arquivo, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descritor, "w", encoding="utf-8") as saida:
        json.dump({"pid": os.getpid(), "bancos": bancos, **modo}, saida)
    try:
        yield arquivo
    finally:
        arquivo.unlink(missing_ok=True)


def ler(pasta: Path | None = None) -> dict | None:
    """O que o make local no ar anotou; None sem make local (ou com o arquivo de um que morreu)."""
    try:
        dados = json.loads(caminho(pasta).read_text(encoding="utf-8"))
        os.kill(dados["pid"], 0)
    except (OSError, ValueError, KeyError):
        return None
    return dados
