"""Fazer um exercício pelo README dele, como o aluno: os blocos de shell na ordem, os trechos de código
aplicados do próprio texto (autoteste/readme.py), e o `make confere` logo depois do último passo.

O que muda do terminal do aluno é só o endereço: o laboratório da suíte está em portas livres, então
`localhost:8082` vira a porta de ordens dele, `localhost:8080` a do gateway e `:8182` (a réplica 2 de
ordens, porta + 100) a porta de ordens dele + 100 (e `make` roda com o virtualenv desta suíte). As
respostas que o aluno lê na tela (`RESPOSTA=<trace_id>`, `RESPOSTA='<porta> <id>'`) vêm do
`resposta(contexto)` do solucao.py — a parte de ler o terminal ou o Jaeger, que não é um comando; `N`
(o id da ordem que o curl devolveu) vem da saída.
"""
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from autoteste.exercicios import Contexto, carregar
from autoteste.readme import Passo, aplicar, passos
from bookstore import config, topologia
from modo_local.processos import porta_livre
from telemetria_local.fontes import FonteLocal
from tests.apoio import esperar, explicar

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
