"""Fazer um exercício pelo README dele, como o aluno: os blocos de shell na ordem, os trechos de código
aplicados do próprio texto (autoteste/readme.py), e o `make confere` logo depois do último passo.

O que muda do terminal do aluno é só o endereço: o laboratório da suíte está em portas livres, então
`localhost:8082` vira a porta de ordens dele (e `make` roda com o virtualenv desta suíte). As respostas
que o aluno lê na tela (`RESPOSTA=<trace_id>`) vêm do `resposta(contexto)` do solucao.py — a parte de
ler o terminal ou o Jaeger, que não é um comando; `N` (o id da ordem que o curl devolveu) vem da saída.
"""
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autoteste.exercicios import Contexto, carregar
from autoteste.readme import Passo, aplicar, passos
from modo_local.processos import porta_livre
from telemetria_local.fontes import FonteLocal
from tests.apoio import esperar, explicar

PORTAS_DO_TEXTO = {"8081": "livros", "8082": "ordens", "8083": "pagamentos"}


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
            texto = re.sub(r"localhost:(808[1-3])",
                           lambda achado: f"127.0.0.1:{self.lab.portas[PORTAS_DO_TEXTO[achado.group(1)]]}", texto)
        if "RESPOSTA=<" in texto:
            resposta = carregar(self.pasta, "solucao").resposta(self.contexto())
            texto = re.sub(r"RESPOSTA=<[^>]*>", lambda _: f"RESPOSTA={shlex.quote(resposta)}", texto)
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
