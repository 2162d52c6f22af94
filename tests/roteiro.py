"""Fazer um exercício pelo README dele, como o aluno: os blocos de shell na ordem, os trechos de código
aplicados do próprio texto (autoteste/readme.py), e o `make confere` logo depois do último passo. No
fim, o que os testes de exercícios usam em volta disso: o autoteste, as ações do solucao.py, uma cópia
do projeto com patches, e o README com os reinícios que ele manda.

O que muda do terminal do aluno é só o endereço: o laboratório da suíte está em portas livres, então
`localhost:8082` vira a porta de ordens dele, `localhost:8080` a do gateway e `:8182` (a réplica 2 de
ordens, porta + 100) a porta de ordens dele + 100 (e `make` roda com o virtualenv desta suíte). As
respostas que o aluno lê na tela (`RESPOSTA=<trace_id>`, `RESPOSTA='<porta> <id>'`) vêm do
`resposta(contexto)` do solucao.py — a parte de ler o terminal ou o Jaeger, que não é um comando; `N`
(o id da ordem que o curl devolveu) vem da saída.
"""
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autoteste.exercicios import Contexto, carregar
from autoteste.readme import Passo, aplicar, passos
from bookstore import config, topologia
from bookstore.config import RAIZ
from supervisao.portas import porta_livre
from telemetria_local.fontes import FonteLocal
from tests.apoio import esperar, explicar, rodar
from tests.lancador import ModoLocal

# Uma porta no texto: `localhost:8082`, `127.0.0.1:8182`, `sport = :8182`. Só as da topologia mudam
# (`:1` de um JSON, `:16686` do Jaeger ficam como estão).
PORTA_NO_TEXTO = re.compile(r"(?P<host>localhost|127\.0\.0\.1)?:(?P<porta>\d+)\b")
# Um RESPOSTA a preencher: `RESPOSTA=<trace_id>`, ou entre aspas quando a resposta tem espaço
# (`RESPOSTA='<porta> <começo do service.instance.id>'`, o 17).
RESPOSTA_A_PREENCHER = re.compile(r"RESPOSTA=(?:<[^>]*>|'<[^']*>')")


def portas_do_texto(portas: dict, replicas: int) -> dict[int, int]:
    """Porta padrão (a que o texto mostra) → a do laboratório: cada serviço e as réplicas dele (a k-ésima
    na porta + 100 × k, no laboratório do aluno e no da suíte: tests.lancador deixa as vizinhas livres)
    e o gateway."""
    traducao = {topologia.PROCESSOS["gateway"].porta: portas["gateway"]} if "gateway" in portas else {}
    for nome in topologia.SERVICOS:
        for k in range(replicas):
            deslocamento = topologia.DESLOCAMENTO_DAS_REPLICAS * k
            traducao[topologia.PROCESSOS[nome].porta + deslocamento] = portas[nome] + deslocamento
    return traducao


def so_git_apply(passo: Passo) -> bool:
    linhas = [linha for linha in passo.texto.splitlines() if linha.strip()]
    return bool(linhas) and all(linha.strip().startswith("git apply ") for linha in linhas)


def ambiente_do_make_local(passo: Passo) -> dict | None:
    """`ZERO_CODE=pagamentos make local` → {"ZERO_CODE": "pagamentos"}; None se o bloco não sobe o lab."""
    palavras = shlex.split(passo.texto.strip())
    if palavras[-2:] != ["make", "local"] or "\n" in passo.texto.strip():
        return None
    return dict(palavra.split("=", 1) for palavra in palavras[:-2])


def preparar(pasta: Path, copia: Path) -> dict:
    """Aplica à cópia do projeto, na ordem do texto, o código do exercício (`git apply` e os trechos
    marcados), e devolve o ambiente com que o README manda subir o laboratório."""
    ambiente = {}
    for passo in passos(pasta / "README.md"):
        if passo.tipo == "código":
            aplicar(passo, copia)
        elif passo.tipo == "shell" and so_git_apply(passo):
            feito = subprocess.run(["bash", "-c", passo.texto], cwd=copia, capture_output=True, text=True)
            assert feito.returncode == 0, explicar(feito)
        elif passo.tipo == "shell" and (do_lab := ambiente_do_make_local(passo)) is not None:
            ambiente.update(do_lab)
    return ambiente


def pasta_do_make(tmp: Path) -> Path:
    """Um `make` à frente no PATH: o do projeto, com o virtualenv desta suíte dado como pronto."""
    pasta = tmp / "bin-do-aluno"
    pasta.mkdir(exist_ok=True)
    make = pasta / "make"
    make.write_text(f'#!/bin/sh\nexec /usr/bin/make --no-print-directory -o .venv/.instalado '
                    f'BIN={Path(sys.prefix) / "bin"} "$@"\n')
    make.chmod(0o755)
    return pasta


@dataclass
class Aluno:
    """Um terminal de aluno diante de um laboratório (tests.lancador.ModoLocal) — ou de nenhum (o 16)."""
    pasta: Path
    lab: object
    raiz: Path
    bin: Path
    extras: dict = field(default_factory=dict)
    saidas: list = field(default_factory=list)

    def ambiente(self) -> dict:
        base = dict(self.lab.ambiente) if self.lab else {}
        urls = {f"{nome.upper()}_URL": self.lab.url(nome) for nome in ("livros", "ordens")} if self.lab else {}
        return {**base, **urls, **self.extras, "COLLECTOR_SAUDE_URL": f"http://127.0.0.1:{porta_livre()}/",
                "PATH": f"{self.bin}:{base.get('PATH', '/usr/bin:/bin')}"}

    def contexto(self) -> Contexto:
        urls = {nome: self.lab.url(nome) for nome in self.lab.portas} if self.lab else {}
        fonte = FonteLocal(self.lab.pasta_telemetria) if self.lab else None
        return Contexto(urls=urls, fonte=fonte, ambiente=self.ambiente(), saida="\n".join(self.saidas))

    def traduzir(self, texto: str) -> str:
        if self.lab:
            # As réplicas que existem no GATEWAY=true make local do aluno (REPLICAS, 2 se ele não disser).
            replicas = int(self.lab.ambiente.get("REPLICAS") or config.VARIAVEIS["REPLICAS"].padrao)
            traducao = portas_do_texto(self.lab.portas, replicas)

            def porta(achado: re.Match) -> str:
                nova = traducao.get(int(achado["porta"]))
                if nova is None:
                    return achado.group(0)
                return f"{'127.0.0.1' if achado['host'] else ''}:{nova}"  # ele escuta só em 127.0.0.1
            texto = PORTA_NO_TEXTO.sub(porta, texto)
        if RESPOSTA_A_PREENCHER.search(texto):
            resposta = carregar(self.pasta, "solucao").resposta(self.contexto())
            texto = RESPOSTA_A_PREENCHER.sub(lambda _: f"RESPOSTA={shlex.quote(resposta)}", texto)
        if re.search(r"/ordens/N\b|ordem_id=N\b", texto):
            ordem = re.findall(r'"id":\s*(\d+)', "\n".join(self.saidas))[-1]  # a da última compra
            texto = re.sub(r"(/ordens/|ordem_id=)N\b", rf"\g<1>{ordem}", texto)
        return texto

    def rodar(self, passo: Passo) -> subprocess.CompletedProcess:
        feito = subprocess.run(["bash", "-c", self.traduzir(passo.texto)], cwd=self.raiz, env=self.ambiente(),
                               capture_output=True, text=True, timeout=120)
        self.saidas.append(feito.stdout)
        return feito

    def conferir_em_silencio(self) -> bool:
        numero = self.pasta.name[:2]
        confere = next(p for p in passos(self.pasta / "README.md") if f"make confere EX={numero}" in p.texto)
        feito = subprocess.run(["bash", "-c", self.traduzir(confere.texto)], cwd=self.raiz, env=self.ambiente(),
                               capture_output=True, text=True, timeout=120)
        return feito.returncode == 0


def confere_do_passo(passo: Passo) -> bool:
    return "make confere" in passo.texto


def fazer_pelo_readme(aluno: Aluno, blocos: list[Passo]) -> subprocess.CompletedProcess:
    """Roda os blocos de shell na ordem; um `make confere` marcado `autoteste: falha aqui` tem de
    falhar; devolve a execução do último bloco (o `make confere` da seção Confira)."""
    feito = None
    for passo in blocos:
        if passo.espera_antes:
            try:  # o aluno espera o que o texto manda; a suíte, no máximo isso, até o autoteste passar
                esperar(aluno.conferir_em_silencio, passo.espera_antes, intervalo=1.0)
            except AssertionError:
                pass
        feito = aluno.rodar(passo)
        if passo.espera_falha:
            assert feito.returncode != 0 and "✘" in feito.stdout, explicar(feito)
        elif not confere_do_passo(passo):
            assert feito.returncode == 0, explicar(feito)
    return feito


def blocos_que_rodam(pasta: Path) -> list[Passo]:
    """Os blocos de shell que rodam com o laboratório no ar (nem `git apply`, nem `make local`)."""
    return [p for p in passos(pasta / "README.md") if p.tipo == "shell" and not so_git_apply(p)
            and ambiente_do_make_local(p) is None]


# --- o laboratório do exercício: o autoteste, as ações do aluno, uma cópia do projeto -------------------
def autoteste(pasta: Path, resposta: str, raiz: Path, ambiente: dict) -> subprocess.CompletedProcess:
    """`make confere` como o aluno o roda, com o Collector dado como fora do ar (modo local)."""
    return rodar([sys.executable, "-m", "autoteste", pasta.name[:2], "--resposta", resposta], cwd=raiz,
                 env={**ambiente, "COLLECTOR_SAUDE_URL": f"http://127.0.0.1:{porta_livre()}/"}, timeout=60)


def confere(lab: ModoLocal, pasta: Path, resposta: str = "") -> subprocess.CompletedProcess:
    return autoteste(pasta, resposta, lab.raiz, lab.ambiente)


def contexto(lab: ModoLocal) -> Contexto:
    """O que as ações do aluno recebem: as URLs e a fonte que o autoteste usaria (o armazém deste lab)."""
    return Contexto(urls={nome: lab.url(nome) for nome in lab.portas}, fonte=FonteLocal(lab.pasta_telemetria),
                    ambiente=lab.ambiente)


def fazer(pasta: Path, lab: ModoLocal) -> str:
    return carregar(pasta, "solucao").acoes(contexto(lab))


def passou(resultado) -> None:
    assert resultado.returncode == 0, explicar(resultado)
    assert "✘" not in resultado.stdout and "Tudo certo!" in resultado.stdout, explicar(resultado)


def copia_com(tmp_path: Path, *patches: Path) -> Path:
    copia = tmp_path / "p"
    shutil.copytree(RAIZ, copia, ignore=shutil.ignore_patterns(
        ".venv", ".git", ".telemetria", ".dados-locais", "__pycache__", ".pytest_cache", ".ferramentas"))
    for patch in patches:
        aplicado = rodar(["git", "apply", str(patch)], cwd=copia)
        assert aplicado.returncode == 0, explicar(aplicado)
    return copia


def reiniciando_pelo_readme(pasta: Path, copia: Path, tmp_path: Path, terminal: Path, **ambiente):
    """O exercício pelo README numa cópia do projeto, com os reinícios que o texto manda: cada trecho de
    código aplicado na vez dele, com o laboratório parado (o Ctrl-C do aluno); cada `make local` do texto
    sobe um laboratório novo com o ambiente que ele dá — na hora em que um bloco precisa dele: um `make
    local` seguido de um `git apply` e de outro `make local` não sobe nada à toa —; os outros blocos na
    ordem (os `git apply` na cópia). Devolve o último bloco (o `make confere` do fim) e o aluno."""
    aluno, lab, pedido, resultado = None, None, None, None
    try:
        for vez, passo in enumerate(passos(pasta / "README.md")):
            if passo.tipo == "código":
                if lab:
                    lab.parar()
                    lab = None
                pedido = None  # o código novo só roda depois do próximo `make local` do texto
                aplicar(passo, copia)
            elif passo.tipo == "shell" and (do_lab := ambiente_do_make_local(passo)) is not None:
                if lab:
                    lab.parar()
                    lab = None
                pedido = do_lab
            elif passo.tipo == "shell":
                if lab is None and pedido is not None and not so_git_apply(passo):
                    lab = ModoLocal(tmp_path / f"telemetria-{vez}", raiz=copia, **{**ambiente, **pedido}).iniciar()
                    aluno = Aluno(pasta, lab, copia, terminal, saidas=aluno.saidas if aluno else [])
                resultado = fazer_pelo_readme(aluno or Aluno(pasta, None, copia, terminal), [passo])
        return resultado, aluno
    finally:
        if lab:
            lab.parar()
