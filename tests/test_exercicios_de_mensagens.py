"""Os exercícios da compra por mensagens (19 a 22), contra um laboratório com
ORDENS_SAGA=mensagens e o RabbitMQ da máquina: o autoteste falha antes e passa logo depois do README
feito como o aluno. Num arquivo à parte de tests/test_exercicios.py para a suíte em dois processos
dividir os laboratórios (cada arquivo vai inteiro para um processo)."""
from pathlib import Path

import pytest

from autoteste.exercicios import carregar, com_autoteste, tipo
from autoteste.readme import passos
from tests import roteiro
from tests.apoio import exigir_rabbitmq, explicar
from tests.lancador import ModoLocal
from tests.roteiro import confere, copia_com, fazer, passou, reiniciando_pelo_readme

pytestmark = pytest.mark.e2e
DE_MENSAGENS = [pasta for pasta in com_autoteste() if tipo(pasta) == "mensagens"]
# O 22 muda o código (a quebra e o conserto): o README dele roda numa cópia do projeto.
MENSAGENS_QUE_MUDAM_O_CODIGO = [pasta for pasta in DE_MENSAGENS
                                if any(p.tipo == "código" for p in passos(pasta / "README.md"))]
# O aluno espera os 10 s de otel.env; a suíte não precisa.
METRICAS_A_CADA_SEGUNDO = {"OTEL_METRIC_EXPORT_INTERVAL": "1000"}


POR_MENSAGENS = {"ORDENS_SAGA": "mensagens", "OTEL_BSP_SCHEDULE_DELAY": "200", **METRICAS_A_CADA_SEGUNDO}


@pytest.fixture(scope="module")
def com_mensagens(tmp_path_factory):
    exigir_rabbitmq()
    with ModoLocal(tmp_path_factory.mktemp("telemetria-mensagens"), **POR_MENSAGENS) as lab:
        yield lab


def ambiente_do_readme(pasta: Path) -> dict:
    """O ambiente com que os `make local` do texto sobem o laboratório ({} se o texto não sobe um)."""
    ambiente = {}
    for passo in passos(pasta / "README.md"):
        if passo.tipo == "shell" and (do_lab := roteiro.ambiente_do_make_local(passo)) is not None:
            ambiente.update(do_lab)
    return ambiente


@pytest.mark.parametrize("pasta", [p for p in DE_MENSAGENS if p not in MENSAGENS_QUE_MUDAM_O_CODIGO],
                         ids=lambda p: p.name)
def test_readme_das_mensagens_executado_falha_antes_e_passa_logo_depois(request, tmp_path, terminal, pasta):
    """O autoteste falha antes; depois, os blocos do README na ordem (a compra do 19, a do 20, a lentidão,
    a rajada e a compra com a fila vazia do 21, com as esperas que o texto manda) e o `make confere` logo
    depois, com a resposta que o aluno leria (solucao.resposta). O `make local` de cada texto diz o
    laboratório: o que liga um interruptor além de ORDENS_SAGA=mensagens (o 20: MENSAGENS_SO_LINKS) ganha
    o seu — o mesmo que o AMBIENTE do solucao.py —; os outros dividem um, o 19 antes do 21 (que deixa a
    fila de pagamentos lenta e a desliga no fim)."""
    pedido = ambiente_do_readme(pasta)
    assert pedido.get("ORDENS_SAGA", "mensagens") == "mensagens", pedido
    interruptor = {chave: valor for chave, valor in pedido.items() if chave != "ORDENS_SAGA"}
    assert interruptor == (getattr(carregar(pasta, "solucao"), "AMBIENTE", None) or {}), interruptor
    if interruptor:
        exigir_rabbitmq()
        with ModoLocal(tmp_path / "telemetria", **POR_MENSAGENS, **interruptor) as lab:
            pelo_readme(lab, terminal, pasta)
    else:
        pelo_readme(request.getfixturevalue("com_mensagens"), terminal, pasta)


def pelo_readme(lab: ModoLocal, terminal: Path, pasta: Path) -> None:
    antes = confere(lab, pasta)
    assert antes.returncode == 1 and "dica:" in antes.stdout, explicar(antes)
    assert not [p for p in passos(pasta / "README.md") if p.tipo == "fora"]  # tudo roda aqui
    passou(roteiro.fazer_pelo_readme(roteiro.Aluno(pasta, lab, lab.raiz, terminal), roteiro.blocos_que_rodam(pasta)))


@pytest.mark.parametrize("pasta", MENSAGENS_QUE_MUDAM_O_CODIGO, ids=lambda p: p.name)
def test_readme_das_mensagens_que_muda_o_codigo_quebra_e_conserta_reiniciando(com_mensagens, tmp_path, terminal,
                                                                                pasta):
    """O 22. No laboratório de todos (o código de hoje), uma compra e o autoteste falha: não há consulta
    antifraude para consertar. Depois, numa cópia do projeto, o README com os reinícios que ele manda: a
    quebra, a compra, o `make confere` que DEVE falhar ali (o span perdido), o conserto do texto, a compra
    e o `make confere` do fim. O solucao.patch leva os arquivos ao mesmo lugar que o texto."""
    fazer(pasta, com_mensagens)
    antes = confere(com_mensagens, pasta)
    assert antes.returncode == 1 and "✘ a consulta antifraude rodou" in antes.stdout, explicar(antes)
    copia = copia_com(tmp_path)
    resultado, _ = reiniciando_pelo_readme(pasta, copia, tmp_path, terminal, **POR_MENSAGENS)
    passou(resultado)
    solucao = copia_com(tmp_path / "solucao", pasta / "solucao.patch")
    mudados = [linha.split(" b/", 1)[1] for linha in (pasta / "solucao.patch").read_text().splitlines()
               if linha.startswith("diff --git ")]
    assert mudados and all((solucao / f).read_text() == (copia / f).read_text() for f in mudados), mudados
