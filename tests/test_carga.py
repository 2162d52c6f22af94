"""O gerador de carga (Locust) roda de verdade contra o laboratório,
com prazo, e cada cenário devolve o status que deveria (402/409/422 não são falhas)."""
import sys
from pathlib import Path

import pytest
import requests

from bookstore.config import RAIZ
from modo_local.servicos import Laboratorio
from tests.apoio import explicar, portas_livres, rodar

pytestmark = pytest.mark.e2e


def test_carga_com_prazo_cobre_todos_os_cenarios_sem_falhas(postgres, tmp_path):
    lab = Laboratorio(postgres, portas=portas_livres(), prefixo_bancos="carga_", pasta_logs=tmp_path,
                      ambiente={"WEB_CONCURRENCY": "2", "OTEL_SDK_DISABLED": "true"})
    with lab.iniciar(recriar_bancos=True):
        resultado = rodar(
            [str(Path(sys.executable).parent / "locust"), "-f", "carga/locustfile.py", "--headless",
             "--only-summary", "-u", "6", "-r", "6", "-t", "6s", "--csv", str(tmp_path / "carga")],
            cwd=RAIZ, timeout=60,
            env={"PATH": "/usr/bin:/bin", "LIVROS_URL": lab.url("livros"), "ORDENS_URL": lab.url("ordens")})
        ordens = requests.get(lab.url("ordens") + "/ordens?limite=200", timeout=5).json()
        catalogo = requests.get(lab.url("livros") + "/livros?limite=200", timeout=5).json()
    assert resultado.returncode == 0, explicar(resultado)
    assert "carga:" in resultado.stdout  # a linha de progresso
    linhas = (tmp_path / "carga_stats.csv").read_text().splitlines()
    por_nome = {linha.split(",")[1]: linha.split(",") for linha in linhas[1:]}
    assert int(por_nome["Aggregated"][2]) > 10 and por_nome["Aggregated"][3] == "0"  # requisições, falhas
    assert "compra concluída (201)" in por_nome
    assert {o["status"] for o in ordens} >= {"concluida"}
    # A carga compra livros próprios: o catálogo inicial dos exercícios não foi tocado.
    assert any(livro["titulo"] == "Livro da carga 1" for livro in catalogo)
