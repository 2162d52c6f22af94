"""O estado que um exercício deixa para o próximo: os arquivos do laboratório que os exercícios mudam e
as falhas ligadas.

Numa aula os exercícios vêm um depois do outro, no mesmo laboratório: a config do Collector do 14 (10%
dos traces), o `otel.env` do 12, o código do 22 ou a latência do 21 mudam o que o exercício seguinte mede.
Cada exercício que muda o laboratório termina com `make restaura` (ferramentas/restaura.py); quando o
aluno esquece, `make confere` e `make diagnostico` dizem o que ficou, de onde, e como voltar.

Os arquivos são os que os exercícios trocam (os `ALTERACOES`/`QUEBRA` de cada solucao.py, mais a config
do Collector dos exercícios do tipo `collector`), comparados com o que o repositório tem (git).
"""
import subprocess
from pathlib import Path

import requests

from bookstore import config, topologia
from bookstore.config import RAIZ

from .exercicios import carregar, com_autoteste, tipo

CONFIG_DO_COLLECTOR = "otel-collector/config.yaml"
SEMPRE = (CONFIG_DO_COLLECTOR, "otel.env")


def arquivos_do_exercicio(pasta: Path) -> set[str]:
    """O que o exercício manda o aluno mudar: os arquivos dos trechos da solução (e da quebra)."""
    solucao = carregar(pasta, "solucao") if (pasta / "solucao.py").exists() else None
    trechos = [*getattr(solucao, "ALTERACOES", ()), *getattr(solucao, "QUEBRA", ())]
    return {trecho.arquivo for trecho in trechos} | ({CONFIG_DO_COLLECTOR} if tipo(pasta) == "collector" else set())


def arquivos_compartilhados() -> list[str]:
    return sorted(set(SEMPRE).union(*(arquivos_do_exercicio(pasta) for pasta in com_autoteste())))


def arquivos_mudados(raiz: Path = RAIZ) -> list[str] | None:
    """Os arquivos compartilhados diferentes do commit em que o laboratório está; None sem git."""
    try:
        diferentes = subprocess.run(["git", "-C", str(raiz), "diff", "--name-only", "HEAD", "--",
                                     *arquivos_compartilhados()], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return diferentes.stdout.split() if diferentes.returncode == 0 else None


def falhas_ligadas() -> dict[str, dict]:
    """{serviço: a falha dele} dos serviços no ar com latência ou erro injetados (PUT /admin/falhas)."""
    ligadas = {}
    for servico in topologia.SERVICOS:
        try:
            falha = requests.get(config.url(servico) + "/admin/falhas", timeout=3).json()
        except (requests.RequestException, ValueError):
            continue  # fora do ar, ou sem o /admin: nada a dizer daqui
        if falha.get("latencia_ms") or falha.get("taxa_erro"):
            ligadas[servico] = falha
    return ligadas


def avisos(pasta: Path | None = None, liga_falhas: bool = False) -> list[str]:
    """As linhas de estado carregado, tirando o que o próprio exercício `pasta` muda."""
    proprios = arquivos_do_exercicio(pasta) if pasta else set()
    linhas = [f"⚠ {arquivo} não é o do laboratório (ficou de um exercício anterior?): muda o que se mede aqui"
              for arquivo in arquivos_mudados() or [] if arquivo not in proprios]
    if not liga_falhas:
        linhas += [f"⚠ falha ligada em {servico} (latencia_ms={falha.get('latencia_ms', 0):g}, "
                   f"taxa_erro={float(falha.get('taxa_erro', 0)):g}): de um exercício anterior?"
                   for servico, falha in falhas_ligadas().items()]
    if linhas:
        linhas.append("  `make restaura` devolve os arquivos e desliga as falhas (com o make local no ar, o "
                      "Collector volta sozinho com a config do laboratório; o código, ao reiniciar o make local)")
    return linhas
