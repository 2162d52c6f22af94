"""`make restaura` e o aviso de estado carregado (autoteste/estado.py, ferramentas/restaura.py), numa cópia
do projeto com um git próprio: o commit dela é "o laboratório", e o que o aluno mudou depois é o que fica
de um exercício para o outro. Rápidos: sem laboratório no ar (as portas dos serviços apontam para portas
livres)."""
import os
import sys

import pytest

from bookstore import topologia
from supervisao.portas import porta_livre
from tests.apoio import explicar, projeto_com_git, rodar


@pytest.fixture
def copia(tmp_path):
    return projeto_com_git(tmp_path / "lab")


def sem_servicos() -> dict:
    return {f"PORTA_{servico.upper()}": str(porta_livre()) for servico in topologia.SERVICOS}


def make(copia, alvo: str, *argumentos):
    return rodar(["make", "--no-print-directory", "-o", ".venv/.instalado", alvo, *argumentos, f"BIN={sys.prefix}/bin"],
                 cwd=copia, env={**os.environ, **sem_servicos()}, timeout=60)


def test_make_restaura_devolve_o_que_os_exercicios_mudam_e_nada_mais(copia):
    config_do_collector = copia / "otel-collector" / "config.yaml"
    original = config_do_collector.read_text()
    config_do_collector.write_text(original + "\n# a cauda do exercício 14\n")
    (copia / "otel.env").write_text((copia / "otel.env").read_text() + "OTEL_TRACES_SAMPLER_ARG=0.1\n")
    (copia / "ordens" / "saga.py").write_text((copia / "ordens" / "saga.py").read_text() + "\n# um span por id\n")
    (copia / "minhas-notas.md").write_text("do aluno\n")
    (copia / "README.md").write_text((copia / "README.md").read_text() + "\nanotado\n")

    resultado = make(copia, "restaura")
    assert resultado.returncode == 0, explicar(resultado)
    for arquivo in ("ordens/saga.py", "otel-collector/config.yaml", "otel.env"):
        assert f"✔ {arquivo}: de volta ao do laboratório" in resultado.stdout, explicar(resultado)
    assert "reiniciar" in resultado.stdout  # o código só vale depois de reiniciar o make local
    assert config_do_collector.read_text() == original
    assert (copia / "minhas-notas.md").exists() and (copia / "README.md").read_text().endswith("anotado\n")
    de_novo = make(copia, "restaura")
    assert "✔ nada a restaurar" in de_novo.stdout, explicar(de_novo)


def test_make_confere_de_outro_exercicio_nomeia_a_config_que_ficou_e_como_voltar(copia):
    """A config do Collector do 14 esquecida no lugar: o 19 a nomeia (ela muda o que o 19 mede); o 13,
    que é sobre ela, não."""
    config_do_collector = copia / "otel-collector" / "config.yaml"
    config_do_collector.write_text(config_do_collector.read_text() + "\n# a cauda do exercício 14\n")
    no_19 = make(copia, "confere", "EX=19", "RESPOSTA=00000000")
    assert "⚠ otel-collector/config.yaml não é o do laboratório" in no_19.stdout, explicar(no_19)
    assert "`make restaura`" in no_19.stdout
    no_13 = make(copia, "confere", "EX=13")
    assert "⚠" not in no_13.stdout, explicar(no_13)
