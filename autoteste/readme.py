"""O README de um exercício como passos que se executam: blocos de shell e trechos de código.

A suíte (tests/test_readmes.py) faz cada exercício como o aluno, a partir do texto dele: roda os
blocos ```bash na ordem e aplica os trechos de código que o README mostra — então uma dica que não
roda quebra a suíte. As marcas são comentários HTML logo antes do bloco (o aluno não as vê no
GitHub); a convenção está em exercises/INSTRUTOR.md, "Como mudar um exercício":

    <!-- código: ordens/saga.py, troca: seguir(repositorio.registrar_reserva(ordem_id, reserva)) -->
    <!-- código: ordens/telemetria.py, depois de: from opentelemetry import metrics, trace -->
    <!-- código: ordens/saga.py, antes de: return ordem_id, 201 -->
    <!-- não roda na suíte: precisa do Docker -->
    <!-- só na pilha real: o Collector no caminho -->
    <!-- autoteste: falha aqui -->
    <!-- espera: 15 s -->

`não roda na suíte` marca um bloco que precisa do que a suíte não tem (o Docker, os 90 s de carga do
18, que o teste troca por uma carga menor); `só na pilha real`, um bloco que precisa do Collector no
caminho (os dos exercícios 13 e 14): o `make test`, com o receptor local, não o roda, e o curso em ordem de
aula (tests/test_curso_em_ordem.py, `make curso`) sim; `autoteste: falha aqui`, um `make confere` que nesse ponto
DEVE dar ✘ (o exercício mostra o erro antes do conserto);
`espera: N s`, a espera que o texto manda fazer antes do bloco (a suíte espera no máximo isso, até o
autoteste passar). A âncora é o começo de UMA linha do arquivo (sem os espaços da frente). Num .py, troca-se ou
ladeia-se o comando inteiro que começa nessa linha (pode ter várias linhas), e o trecho ganha o
recuo dele; nos outros arquivos, a linha.
"""
import ast
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

BLOCO = re.compile(r"(?:<!--\s*(?P<marca>[^\n]*?)\s*-->\s*\n\s*)?```(?P<lingua>[a-z]*)\n(?P<corpo>.*?)```", re.S)
CODIGO = re.compile(r"código:\s*(?P<arquivo>[^,]+),\s*(?P<como>troca|depois de|antes de):\s*(?P<ancora>.+)$")
NAO_RODA = "não roda na suíte:"
SO_NA_PILHA_REAL = "só na pilha real:"
FALHA_AQUI = "autoteste: falha aqui"
ESPERA = re.compile(r"espera:\s*(\d+)\s*s")


@dataclass(frozen=True)
class Passo:
    tipo: str      # "shell", "código", "fora" (não roda na suíte), "pilha" (só na pilha real)
    texto: str     # o bloco, como está no README
    marca: str = ""
    arquivo: str = ""
    como: str = ""
    ancora: str = ""

    @property
    def espera_falha(self) -> bool:
        return self.marca == FALHA_AQUI

    @property
    def espera_antes(self) -> float:
        """Segundos que o texto manda esperar antes deste bloco (0 se nenhum)."""
        achada = ESPERA.fullmatch(self.marca)
        return float(achada.group(1)) if achada else 0.0


def passos(readme: Path) -> list[Passo]:
    """Os blocos que contam, na ordem do texto: shell (```bash), código marcado, e os marcados
    como fora da suíte. Blocos sem marca que não são bash (a saída de exemplo, o formato de um
    cabeçalho, o código sem marca de uma explicação) são texto para ler."""
    return passos_do_texto(Path(readme).read_text(encoding="utf-8"))


def passos_do_texto(texto: str) -> list[Passo]:
    """Os passos de um pedaço de Markdown (uma seção do README do laboratório, em tests/test_readme.py)."""
    achados = []
    for bloco in BLOCO.finditer(texto):
        marca, lingua, corpo = (bloco["marca"] or "").strip(), bloco["lingua"], bloco["corpo"]
        corpo = textwrap.dedent(corpo)
        if marca.startswith(NAO_RODA):
            achados.append(Passo("fora", corpo, marca))
        elif marca.startswith(SO_NA_PILHA_REAL) and lingua == "bash":
            achados.append(Passo("pilha", corpo, marca))
        elif (codigo := CODIGO.match(marca)) is not None:
            achados.append(Passo("código", corpo, marca, codigo["arquivo"].strip(), codigo["como"],
                                 codigo["ancora"].strip()))
        elif lingua == "bash":
            achados.append(Passo("shell", corpo, marca))
    return achados


class AncoraNaoEncontrada(Exception):
    pass


def aplicar(passo: Passo, raiz: Path) -> None:
    """Aplica um trecho de código marcado ao arquivo dele, dentro de `raiz`."""
    caminho = Path(raiz) / passo.arquivo
    linhas = caminho.read_text(encoding="utf-8").splitlines(keepends=True)
    achadas = [n for n, linha in enumerate(linhas) if linha.strip().startswith(passo.ancora)]
    if len(achadas) != 1:
        raise AncoraNaoEncontrada(f"{passo.arquivo}: a âncora {passo.ancora!r} começa {len(achadas)} linha(s) "
                                  "(precisa de 1)")
    inicio = achadas[0]
    fim = _fim_do_comando(linhas, inicio) if caminho.suffix == ".py" else inicio + 1
    recuo = re.match(r"\s*", linhas[inicio]).group(0)
    trecho = textwrap.indent(passo.texto, recuo, lambda linha: linha.strip() != "")
    if passo.como == "troca":
        linhas[inicio:fim] = [trecho]
    elif passo.como == "depois de":
        linhas[fim:fim] = [trecho]
    else:
        linhas[inicio:inicio] = [trecho]
    caminho.write_text("".join(linhas), encoding="utf-8")


def _fim_do_comando(linhas: list[str], inicio: int) -> int:
    """A linha depois do fim do comando Python que começa em `inicio` (o comando simples mais
    externo que começa ali: um `with` de várias linhas inclui o corpo)."""
    arvore = ast.parse("".join(linhas))
    candidatos = [no for no in ast.walk(arvore) if isinstance(no, ast.stmt) and no.lineno == inicio + 1]
    if not candidatos:
        return inicio + 1
    return max(no.end_lineno for no in candidatos)
