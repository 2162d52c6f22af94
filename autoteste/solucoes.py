"""`make solucoes`: gera os `.patch` dos exercícios a partir dos trechos que cada solução troca.

Um patch guardado à mão fica preso aos números de linha do dia em que foi feito, e uma
refatoração o quebra calada. Aqui a solução é uma lista de `Alteracao(arquivo, antes,
depois)` no `solucao.py` do exercício: `antes` precisa existir UMA vez no arquivo de hoje.
O patch é gerado desse texto; `tests/test_exercicios.py` confere que o patch guardado é o
gerado agora e que cada `antes` ainda está lá — uma refatoração que o mude falha na suíte,
com o nome do exercício e do arquivo.
"""
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

from bookstore.config import RAIZ

from .exercicios import carregar, com_autoteste

# Atributo do solucao.py → arquivo gerado ao lado dele.
PATCHES = {"ALTERACOES": "solucao.patch", "QUEBRA": "quebra.patch"}


@dataclass(frozen=True)
class Alteracao:
    arquivo: str  # relativo à raiz do projeto
    antes: str
    depois: str


class TrechoNaoEncontrado(Exception):
    pass


def aplicar(texto: str, alteracoes, arquivo: str) -> str:
    for alteracao in alteracoes:
        vezes = texto.count(alteracao.antes)
        if vezes != 1:
            raise TrechoNaoEncontrado(
                f"{arquivo}: o trecho que a solução troca aparece {vezes} vez(es) (precisa de 1):\n"
                f"{alteracao.antes}")
        texto = texto.replace(alteracao.antes, alteracao.depois)
    return texto


def gerar_patch(alteracoes, raiz: Path = RAIZ) -> str:
    """O patch (formato do git, para `git apply`) que faz as alterações na árvore de hoje."""
    por_arquivo: dict[str, list[Alteracao]] = {}
    for alteracao in alteracoes:
        por_arquivo.setdefault(alteracao.arquivo, []).append(alteracao)
    partes = []
    for arquivo, deste in por_arquivo.items():
        original = (raiz / arquivo).read_text(encoding="utf-8")
        novo = aplicar(original, deste, arquivo)
        partes.append(f"diff --git a/{arquivo} b/{arquivo}\n")
        partes.extend(difflib.unified_diff(original.splitlines(keepends=True), novo.splitlines(keepends=True),
                                           fromfile=f"a/{arquivo}", tofile=f"b/{arquivo}"))
    return "".join(partes)


def patches_esperados(raiz: Path = RAIZ) -> dict[Path, str]:
    """Caminho de cada .patch → o conteúdo que ele deve ter hoje."""
    esperados = {}
    for pasta in com_autoteste():
        if not (pasta / "solucao.py").exists():
            continue
        solucao = carregar(pasta, "solucao")
        for atributo, nome in PATCHES.items():
            if hasattr(solucao, atributo):
                esperados[pasta / nome] = gerar_patch(getattr(solucao, atributo), raiz)
    return esperados


def main() -> int:
    for caminho, conteudo in patches_esperados().items():
        mudou = not caminho.exists() or caminho.read_text(encoding="utf-8") != conteudo
        caminho.write_text(conteudo, encoding="utf-8")
        print(f"{'✎ regerado' if mudou else '✔ igual   '} {caminho.relative_to(RAIZ)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except TrechoNaoEncontrado as erro:
        print(f"✘ {erro}", file=sys.stderr)
        sys.exit(1)
