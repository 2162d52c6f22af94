"""O incidente em curso: um arquivo na pasta da telemetria (incidente.json), ao lado do laboratorio.json.

Guarda o nome, a hora do início, o pid da carga de fundo e as tentativas. Não fica em nada que o aluno
consulta para achar a causa (a pasta é a dos dados do make local, não a de um exercício).
"""
import json
import time
from pathlib import Path

from telemetria_local.armazem import pasta_padrao

ARQUIVO = "incidente.json"


def caminho() -> Path:
    return pasta_padrao() / ARQUIVO


def ler() -> dict | None:
    try:
        return json.loads(caminho().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def gravar(dados: dict) -> None:
    temporario = caminho().with_suffix(".tmp")
    temporario.write_text(json.dumps(dados), encoding="utf-8")
    temporario.replace(caminho())


def novo(nome: str, carga_pid: int) -> dict:
    dados = {"nome": nome, "inicio": time.time(), "carga_pid": carga_pid, "tentativas": 0, "resolvido_em": None}
    gravar(dados)
    return dados


def apagar() -> None:
    caminho().unlink(missing_ok=True)
