"""O curso inteiro em ordem de aula, como uma turma o faz: um laboratório só (`make local` com a pilha
real: o Collector, o Jaeger e o Prometheus construídos do código-fonte), os exercícios 01 → 22 pelos
READMEs, com os reinícios e as trocas de modo que os textos mandam, e o `make restaura` que cada um pede no
fim. Cada autoteste dá ✘ antes do exercício e ✔ depois, lendo o Jaeger e o Prometheus de verdade — e o
que um exercício deixa no laboratório é o que o seguinte encontra. No caminho, os erros que a sala
comete (esquecer de reiniciar, metade da solução, um erro de digitação no YAML, a config do Collector
deixada pelo 14), cada um com o ✘ e a dica certos.

Não cabe no `make test` (o 16 roda dois `make bench`, o 14 e o 18 rodam carga): é o `make curso`, que o CI
roda depois. As durações encurtam só pelas variáveis que os próprios textos documentam (`DURACAO` da
carga, `BENCH_*` do bench); o resto — a exportação de 10 s das métricas, o lote de 1 s dos spans — é o
do `otel.env`, o que o aluno tem.
"""
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from autoteste.exercicios import com_autoteste, tipo
from autoteste.readme import Passo, aplicar, passos
from modo_local import pilha_real
from telemetria_local.fontes import FonteDocker
from tests import roteiro
from tests.apoio import esperar, exigir_rabbitmq, explicar, projeto_com_git
from tests.lancador import ModoLocal

pytestmark = [pytest.mark.e2e, pytest.mark.turma]
EXERCICIOS = com_autoteste()
# As cargas dos textos, mais curtas (a variável que o texto documenta): o que elas mostram aparece antes.
CARGAS_MAIS_CURTAS = {"DURACAO=60s": "DURACAO=20s", "DURACAO=90s": "DURACAO=40s"}
# Os dois `make bench` do 16 numa medição pequena (BENCH_*, na tabela do README do laboratório).
BENCH_PEQUENO = {"BENCH_COMPRAS": "40", "BENCH_RODADAS": "2", "BENCH_CONCORRENCIA": "2", "BENCH_AQUECIMENTO": "5",
                 "BENCH_SO_A_CARGA": "true"}
# Um bloco `make local` (qualquer ambiente), um `git apply` e um `make confere` mudam o laboratório ou o
# julgam: o código de uma dica vale a partir do último deles antes dela (a dica vem depois do passo que a
# pede, no texto, mas o aluno a aplica ao fazer o passo).
ESTRUTURAIS = (roteiro.so_git_apply, lambda p: roteiro.ambiente_do_make_local(p) is not None,
               roteiro.confere_do_passo)


class AlunoNaPilha(roteiro.Aluno):
    """O terminal do aluno diante da pilha real: o autoteste acha o Collector do laboratório (nenhum
    COLLECTOR_SAUDE_URL falso), e as respostas que ele lê vêm do Jaeger e do Prometheus."""

    def ambiente(self) -> dict:
        ambiente = super().ambiente()
        del ambiente["COLLECTOR_SAUDE_URL"]
        return ambiente

    def contexto(self):
        contexto = super().contexto()
        fonte = FonteDocker(self.lab.url("jaeger"), self.lab.url("prometheus"), self.lab.url("victorialogs"))
        return type(contexto)(urls=contexto.urls, fonte=fonte, ambiente=contexto.ambiente, saida=contexto.saida)

    def traduzir(self, texto: str) -> str:
        for longa, curta in CARGAS_MAIS_CURTAS.items():
            texto = texto.replace(longa, curta)
        return super().traduzir(texto)


class Turma:
    """O laboratório de uma turma: uma cópia do projeto com git (o "laboratório" do `make restaura`) e o
    `make local` dela, parado e subido de novo nas mesmas portas quando o texto manda reiniciar."""

    def __init__(self, pasta: Path, terminal: Path):
        self.raiz = projeto_com_git(pasta / "projeto")
        (self.raiz / ".ferramentas").symlink_to(pilha_real.BIN.parent)
        (self.raiz / ".git" / "info" / "exclude").write_text(".ferramentas\n")
        self.lab = ModoLocal(pasta / "telemetria", raiz=self.raiz, PILHA="real")
        self.base = dict(self.lab.ambiente)
        self.terminal = terminal
        self.modo: dict = {}          # o ambiente do último `make local` que o aluno digitou
        self.reiniciar = True         # o código, o otel.env ou o modo mudaram desde a subida
        self.tempos: dict[str, float] = {}

    def no_ar(self) -> bool:
        return self.lab.processo is not None and self.lab.processo.poll() is None

    def parar(self) -> None:
        if self.no_ar():
            self.lab.parar()
        self.reiniciar = True

    def subir_se_preciso(self) -> None:
        if self.reiniciar or not self.no_ar():
            self.parar()
            self.lab.ambiente = {**self.base, **self.modo}
            self.lab.linhas.clear()
            self.lab.iniciar(limite_segundos=120)
            self.reiniciar = False

    def aluno(self, pasta: Path, **extras) -> AlunoNaPilha:
        return AlunoNaPilha(pasta, self.lab, self.raiz, self.terminal, extras=extras)

    def confere(self, pasta: Path, resposta: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(["make", "confere", f"EX={pasta.name[:2]}", *([f"RESPOSTA={resposta}"] if resposta else [])],
                              cwd=self.raiz, env=self.aluno(pasta).ambiente(), capture_output=True, text=True,
                              timeout=180)

    def restaura(self) -> subprocess.CompletedProcess:
        feito = subprocess.run(["make", "restaura"], cwd=self.raiz, env=self.aluno(EXERCICIOS[0]).ambiente(),
                               capture_output=True, text=True, timeout=60)
        assert feito.returncode == 0, explicar(feito)
        if "reiniciar" in feito.stdout:  # o código e o otel.env do laboratório valem no próximo make local
            self.parar()
        return feito

    def trocar_config_do_collector(self, texto: str, espera: str) -> None:
        """Salva a config do Collector, como o aluno no editor, e espera o lançador dizer o que fez."""
        antes = sum(espera in linha for linha in self.lab.linhas)
        (self.raiz / "otel-collector" / "config.yaml").write_text(texto, encoding="utf-8")
        esperar(lambda: sum(espera in linha for linha in self.lab.linhas) > antes, 30, intervalo=0.2,
                descricao=f"'{espera}' no terminal depois de salvar a config:\n" + self.lab.saida()[-2000:])


def em_ordem_de_aula(pasta: Path) -> list[Passo]:
    """Os passos do README na ordem em que o aluno os faz: o código de uma dica logo depois do último
    bloco que muda o laboratório ou o julga (ver ESTRUTURAIS); o resto na ordem do texto."""
    ordem, depois_do_ultimo = [], 0
    for passo in passos(pasta / "README.md"):
        if passo.tipo == "código":
            ordem.insert(depois_do_ultimo, passo)
            depois_do_ultimo += 1
            continue
        ordem.append(passo)
        if passo.tipo in ("shell", "pilha") and any(e(passo) for e in ESTRUTURAIS):
            depois_do_ultimo = len(ordem)
    return ordem


def ja_aplicado(passo: Passo, raiz: Path) -> bool:
    """O trecho já está no arquivo (cada linha dele, sem o recuo)."""
    linhas = {linha.strip() for linha in (raiz / passo.arquivo).read_text(encoding="utf-8").splitlines()}
    return all(linha.strip() in linhas for linha in passo.texto.splitlines() if linha.strip())


def fazer_em_aula(turma: Turma, pasta: Path, **extras) -> subprocess.CompletedProcess:
    """O exercício pelo README, no laboratório da turma; devolve o último `make confere`."""
    aluno, feito, noutro_terminal = turma.aluno(pasta, **extras), None, []
    if tipo(pasta) == "collector":
        turma.subir_se_preciso()
        # O passo 1 é editar a config (o texto a descreve; a solução inteira está em solucao.yaml).
        turma.trocar_config_do_collector((pasta / "solucao.yaml").read_text(encoding="utf-8"),
                                         espera="Collector de volta")
    try:
        for passo in em_ordem_de_aula(pasta):
            if passo.tipo == "código":
                turma.parar()  # Ctrl-C, editar, make local de novo
                if not ja_aplicado(passo, turma.raiz):  # o erro de antes (esquecer de reiniciar) já o salvou
                    aplicar(passo, turma.raiz)
            elif passo.tipo == "shell" and (modo := roteiro.ambiente_do_make_local(passo)) is not None:
                if modo != turma.modo:  # no ar do mesmo jeito, o aluno segue ("se ele já está no ar assim")
                    turma.parar()
                    turma.modo = modo
            elif passo.tipo == "shell" and roteiro.so_git_apply(passo):
                turma.parar()
                aplicado = subprocess.run(["bash", "-c", passo.texto], cwd=turma.raiz, capture_output=True, text=True)
                assert aplicado.returncode == 0, explicar(aplicado)
            elif passo.tipo == "fora" and "noutro terminal" in passo.marca:
                turma.subir_se_preciso()
                noutro_terminal.append(subprocess.Popen(
                    ["bash", "-c", aluno.traduzir(passo.texto)], cwd=turma.raiz, env=aluno.ambiente(),
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            elif passo.tipo in ("shell", "pilha"):
                if tipo(pasta) == "medir":
                    turma.parar()  # "Feche o make local (o bench sobe os próprios laboratórios)"
                else:
                    turma.subir_se_preciso()
                feito = roteiro.fazer_pelo_readme(aluno, [passo])
    finally:
        for processo in noutro_terminal:
            processo.terminate()
            processo.wait(timeout=30)
    return feito


@pytest.fixture(scope="module")
def turma(tmp_path_factory, terminal):
    for nome in pilha_real.BINARIOS:
        if not (pilha_real.BIN / nome).exists():
            pytest.skip(f"falta {nome} em .ferramentas/bin/: {pilha_real.COMO_CONSTRUIR}")
    exigir_rabbitmq()
    turma = Turma(tmp_path_factory.mktemp("turma"), terminal)
    yield turma
    turma.parar()
    print("\n".join(f"{nome}: {segundos:.0f} s" for nome, segundos in turma.tempos.items()))


# --- os erros que a sala comete, cada um antes do exercício feito direito --------------------------
def esquecer_de_reiniciar(turma: Turma, pasta: Path) -> None:
    """O código do 04 salvo, o make local não reiniciado, a compra e o confere: ✘, e a dica diz reiniciar."""
    for passo in passos(pasta / "README.md"):
        if passo.tipo == "código":
            aplicar(passo, turma.raiz)
    aluno = turma.aluno(pasta)
    compra = next(p for p in passos(pasta / "README.md") if p.tipo == "shell" and "curl" in p.texto)
    assert aluno.rodar(compra).returncode == 0
    feito = turma.confere(pasta)
    assert feito.returncode != 0 and "reinici" in feito.stdout, explicar(feito)
    turma.reiniciar = True  # o exercício, feito direito em seguida, reinicia


def metade_da_solucao_e_um_erro_no_yaml(turma: Turma, pasta: Path) -> None:
    """No 13: um erro de digitação (o lançador recusa e diz a linha; o Collector segue com a anterior) e
    o filter/admin declarado mas fora do pipeline (o Collector aceita; o confere diz qual ficou de fora)."""
    original = (turma.raiz / "otel-collector" / "config.yaml").read_text(encoding="utf-8")
    turma.trocar_config_do_collector(original.replace("limit_mib: 70", "limite_mib: 70"), espera="recusa")
    assert "limite_mib" in turma.lab.saida().split("recusa")[-1]
    solucao = yaml.safe_load((pasta / "solucao.yaml").read_text(encoding="utf-8"))
    solucao["service"]["pipelines"]["traces"]["processors"].remove("filter/admin")
    turma.trocar_config_do_collector(yaml.safe_dump(solucao, sort_keys=False, allow_unicode=True),
                                     espera="Collector de volta")
    aluno = turma.aluno(pasta)
    for passo in passos(pasta / "README.md"):
        if passo.tipo == "pilha" or (passo.tipo == "shell" and "curl" in passo.texto):
            aluno.rodar(passo)
    feito = conferir_ate_o_veredito(turma, pasta, "filter/admin")
    assert feito.returncode != 0 and "filter/admin" in feito.stdout and "pipeline" in feito.stdout, explicar(feito)


def conferir_ate_o_veredito(turma: Turma, pasta: Path, trecho: str, limite: float = 30):
    """O confere de novo (como o aluno) até a linha que se espera aparecer; devolve o último."""
    vezes = []

    def achou():
        vezes.append(turma.confere(pasta))
        return trecho in vezes[-1].stdout
    try:
        esperar(achou, limite, intervalo=2)
    except AssertionError:
        pass
    return vezes[-1]


ERROS_ANTES = {"04": esquecer_de_reiniciar, "13": metade_da_solucao_e_um_erro_no_yaml}


@pytest.mark.parametrize("pasta", EXERCICIOS, ids=lambda p: p.name)
def test_o_curso_em_ordem_de_aula(turma, pasta):
    inicio, numero = time.monotonic(), pasta.name[:2]
    if tipo(pasta) != "medir":
        turma.subir_se_preciso()
    antes = turma.confere(pasta)
    assert antes.returncode != 0 and "✘" in antes.stdout and "dica:" in antes.stdout, explicar(antes)
    if numero == "15":
        # O 14 terminou sem o make restaura (o erro mais comum da sala): o confere nomeia a config que ficou.
        assert "⚠ otel-collector/config.yaml não é o do laboratório" in antes.stdout, explicar(antes)
        turma.restaura()
        turma.subir_se_preciso()
    if numero in ERROS_ANTES:
        ERROS_ANTES[numero](turma, pasta)
    extras = BENCH_PEQUENO if tipo(pasta) == "medir" else {}
    depois = fazer_em_aula(turma, pasta, **extras)
    roteiro.passou(depois)
    texto = (pasta / "README.md").read_text(encoding="utf-8")
    if "make restaura" in texto and numero != "14":
        turma.restaura()
    turma.tempos[pasta.name] = time.monotonic() - inicio
