"""O `make bench` não é um teste de tempo (os números só são impressos), mas o
código dele precisa continuar medindo o que diz medir."""
from modo_local import bench_unitario
from telemetria_local.receptor import ReceptorOTLP


def test_custo_unitario_mede_com_e_sem_sdk_e_so_o_ligado_exporta(postgres, monkeypatch):
    monkeypatch.setenv("BENCH_REPETICOES", "20")
    with ReceptorOTLP() as receptor:
        sem = bench_unitario.medir("sem", postgres.url(), receptor.ambiente())
        assert receptor.spans() == [] and receptor.logs() == []
        com = bench_unitario.medir("com", postgres.url(), receptor.ambiente())
        nomes = {span["nome"] for span in receptor.spans()}
        registros = receptor.logs()
    assert sem.keys() == com.keys() and len(sem) == 5
    assert all(valor > 0 for valor in [*sem.values(), *com.values()])
    # Cada operação medida deixou a sua telemetria: span manual, SQL, servidor, cliente e log.
    assert {"saga.passo", "SELECT", "GET /livros/<int:livro_id>", "GET"} <= nomes
    assert any(registro["corpo"] == "ordem 1 → criada" for registro in registros)
