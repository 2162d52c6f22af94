"""`make solucoes`: gera os `.patch` dos exercícios a partir dos trechos que cada solução troca.

Um patch guardado à mão fica preso aos números de linha do dia em que foi feito, e uma
refatoração o quebra calada. Aqui a solução é uma lista de `Alteracao(arquivo, antes,
depois)` no `solucao.py` do exercício: `antes` precisa existir UMA vez no arquivo de hoje.
Com `em="Classe.metodo"` (ou o nome de uma função), o trecho é procurado só dentro daquela
definição: precisa ser único só ali (uma linha basta, mesmo que o arquivo a repita em outro
lugar), e uma refatoração que mexa no resto do arquivo não o afeta. O patch é gerado desse
texto; `tests/test_estrutura.py` confere que o patch guardado é o gerado agora e que cada
`antes` ainda está lá — uma refatoração que o mude falha na suíte, com o nome do exercício,
do arquivo e da função.
"""
import ast
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
    em: str | None = None  # a função ou o método (ex.: "Saga.comprar") em que `antes` está


class TrechoNaoEncontrado(Exception):
    pass


def _definicao(arvore: ast.Module, caminho: str):
    """A definição `Classe.metodo` (ou `funcao`) no nível de cima do módulo, ou None."""
    nos = arvore.body
    for nome in caminho.split("."):
        achado = next((no for no in nos if isinstance(no, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                       and no.name == nome), None)
        if achado is None:
            return None
        nos = achado.body
    return achado


def _trecho(texto: str, alteracao: Alteracao, arquivo: str) -> tuple[int, int]:
    """Onde procurar `antes`: (início, fim) em caracteres — o arquivo inteiro, ou só a definição de `em`."""
    if alteracao.em is None:
        return 0, len(texto)
    definicao = _definicao(ast.parse(texto), alteracao.em)
    if definicao is None:
        raise TrechoNaoEncontrado(f"{arquivo}: não há mais `{alteracao.em}`, onde a solução troca:\n{alteracao.antes}")
    linhas = texto.splitlines(keepends=True)
    primeira = min([definicao.lineno, *(d.lineno for d in definicao.decorator_list)]) - 1
    inicio = sum(map(len, linhas[:primeira]))
    return inicio, inicio + sum(map(len, linhas[primeira:definicao.end_lineno]))


def aplicar(texto: str, alteracoes, arquivo: str) -> str:
    for alteracao in alteracoes:
        inicio, fim = _trecho(texto, alteracao, arquivo)
        onde = f" em `{alteracao.em}`" if alteracao.em else ""
        vezes = texto.count(alteracao.antes, inicio, fim)
        if vezes != 1:
            raise TrechoNaoEncontrado(
                f"{arquivo}: o trecho que a solução troca aparece {vezes} vez(es){onde} (precisa de 1):\n"
                f"{alteracao.antes}")
        posicao = texto.index(alteracao.antes, inicio, fim)
        texto = texto[:posicao] + alteracao.depois + texto[posicao + len(alteracao.antes):]
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
