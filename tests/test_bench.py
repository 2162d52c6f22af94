"""O `make bench` não é um teste de tempo (os números só são impressos), mas o
código dele precisa continuar medindo o que diz medir."""
import pytest

from ferramentas import custo_por_peca
from telemetria_local.receptor import ReceptorOTLP

pytestmark = pytest.mark.e2e  # sobe processos de verdade (gunicorn, receptor OTLP)


def test_custo_unitario_mede_com_e_sem_sdk_e_so_o_ligado_exporta(postgres, monkeypatch):
    monkeypatch.setenv("BENCH_REPETICOES", "20")
    with ReceptorOTLP() as receptor:
        sem = custo_por_peca.medir("sem", postgres.url(), receptor.ambiente())
        assert receptor.spans() == [] and receptor.logs() == []
        com = custo_por_peca.medir("com", postgres.url(), receptor.ambiente())
        nomes = {span["nome"] for span in receptor.spans()}
        registros = receptor.logs()
    assert sem.keys() == com.keys() and len(sem) == 5
    assert all(valor > 0 for valor in [*sem.values(), *com.values()])
    # Cada operação medida deixou a sua telemetria: span manual, SQL, servidor, cliente e log.
    assert {"saga.passo", "SELECT", "GET /livros/<int:livro_id>", "GET"} <= nomes
    assert any(registro["corpo"] == "ordem 1 → criada" for registro in registros)


def test_instrumentacao_desligada_por_nome_nao_e_instalada(postgres, tmp_path):
    """OTEL_PYTHON_DISABLED_INSTRUMENTATIONS (o "zero" do make bench, e uma alavanca para o
    aluno): com psycopg desligado, a compra ainda gera o trace, mas sem um span de SQL."""
    import requests
    from opentelemetry.instrumentation.utils import suppress_instrumentation

    from modo_local.servicos import Laboratorio
    from tests.apoio import criar_livro, esperar, portas_livres

    with ReceptorOTLP() as receptor:
        lab = Laboratorio(postgres, portas=portas_livres(), prefixo_bancos="sem_psycopg_", pasta_logs=tmp_path,
                          ambiente={"CATALOGO_INICIAL": "false", "OTEL_BSP_SCHEDULE_DELAY": "200",
                                    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "psycopg, logging",
                                    **receptor.ambiente()})
        with lab.iniciar(recriar_bancos=True):
            livro = criar_livro(lab)
            with suppress_instrumentation():
                assert requests.post(lab.url("ordens") + "/ordens", timeout=10,
                                     json={"itens": [{"livro_id": livro, "quantidade": 1}]}).status_code == 201
            esperar(lambda: any(s["nome"] == "POST /ordens" for s in receptor.spans()), limite=10,
                    descricao="o span de servidor da compra chegar ao receptor")
        spans = receptor.spans()
        assert any(s["nome"] == "POST /ordens" for s in spans) and any(s["nome"] == "saga.cobrar" for s in spans)
        assert not any("db.system" in s["atributos"] for s in spans)
        assert receptor.logs() == []  # logging desligado: nada de logs OTLP
        assert "trace_id=" not in lab.log("ordens")  # nem o trace_id injetado nas linhas do stdout
