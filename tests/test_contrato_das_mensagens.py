"""O contrato das mensagens (bookstore/mensagens.py) é o que produtores, consumidores e docs usam:
nenhuma mensagem fora dele sai, nenhum serviço deixa de tratar o que recebe, e a tabela do README é
a que o contrato imprime. Rápidos: sem broker, sem gunicorn."""
import ast
import sys

import pytest
from flask import Flask

from bookstore import mensagens, topologia
from bookstore.config import RAIZ
from bookstore.mensagens import ForaDoContrato
from tests.apoio import explicar, rodar


@pytest.fixture
def em_livros():
    with Flask("livros").app_context():
        yield


def test_uma_mensagem_fora_do_contrato_nao_sai(em_livros):
    with pytest.raises(ForaDoContrato, match="'livros.vender' não está no contrato"):
        mensagens.enviar("livros.vender", 1)


def test_um_corpo_sem_um_campo_ou_com_um_a_mais_nao_sai(em_livros):
    with pytest.raises(ForaDoContrato, match=r"ordens.estoque_reservado leva \['reserva'\]"):
        mensagens.enviar("ordens.estoque_reservado", 1)
    with pytest.raises(ForaDoContrato, match="não"):
        mensagens.enviar("ordens.reserva_cancelada", 1, motivo="x")


def test_quem_nao_e_remetente_nao_manda(em_livros):
    with pytest.raises(ForaDoContrato, match="livros não manda pagamentos.cobrar .quem manda: ordens."):
        mensagens.enviar("pagamentos.cobrar", 1, valor=1, cartao="4111111111111111", chave="k")


def test_um_servico_trata_exatamente_o_que_recebe():
    com_uma_a_menos = {"livros.reservar": print, "livros.confirmar": print}
    with pytest.raises(ForaDoContrato, match="livros recebe"):
        mensagens.tratadores("livros", com_uma_a_menos)
    with pytest.raises(ForaDoContrato):
        mensagens.tratadores("livros", {**com_uma_a_menos, "livros.cancelar": print, "livros.vender": print})


def test_os_tratadores_de_cada_servico_cobrem_o_contrato(tmp_path, monkeypatch):
    import livros.mensagens
    import ordens
    import ordens.mensagens
    import pagamentos
    import pagamentos.mensagens
    from bookstore import cartao
    cartao.gerar_chaves(tmp_path / "privada.pem", tmp_path / "publica.pem")
    monkeypatch.setenv("CARTAO_CHAVE_PRIVADA", str(tmp_path / "privada.pem"))  # o mensageiro de pagamentos abre o selo
    sem_banco = {"TESTING": True, "DATABASE_URL": "postgresql://ninguem@127.0.0.1:1/nada"}
    app = ordens.create_app(sem_banco)
    for servico, tratadores in (("livros", livros.mensagens.tratadores(None)), ("ordens", ordens.mensagens.tratadores(app)),
                                ("pagamentos", pagamentos.mensagens.tratadores(pagamentos.create_app(sem_banco)))):
        assert set(tratadores.por_destino) == {m.routing_key for m in mensagens.recebidas_por(servico)}, servico
        assert (tratadores.responder_falha is None) == (servico == mensagens.ORQUESTRADOR)


def enviadas_no_codigo() -> dict[str, set[str]]:
    """{routing key: os serviços cujo código a manda}, lendo cada `mensagens.enviar("…", …)` escrito."""
    achadas: dict[str, set[str]] = {}
    for servico in topologia.SERVICOS:
        for arquivo in (RAIZ / servico).glob("*.py"):
            for no in ast.walk(ast.parse(arquivo.read_text(encoding="utf-8"))):
                if isinstance(no, ast.Call) and ast.unparse(no.func) == "mensagens.enviar":
                    chave = no.args[0]
                    if isinstance(chave, ast.Constant):
                        achadas.setdefault(chave.value, set()).add(servico)
    return achadas


def test_cada_mensagem_do_contrato_e_enviada_so_por_quem_ele_diz():
    """O desfazer manda `livros.cancelar`/`pagamentos.estornar` por uma tabela (orquestrador.py); o resto
    está escrito na chamada. `ordens.falha` sai também do contrato (a resposta de uma falha injetada)."""
    from ordens.orquestrador import COMANDO_DO_DESFAZER
    achadas = enviadas_no_codigo()
    for chave in COMANDO_DO_DESFAZER.values():
        achadas.setdefault(chave, set()).add("ordens")
    assert set(achadas) <= set(mensagens.MENSAGENS)
    for chave, mensagem in mensagens.MENSAGENS.items():
        assert achadas.get(chave, set()) == set(mensagem.quem_manda), chave


def test_so_o_contrato_escreve_a_routing_key_de_uma_fila():
    """A biblioteca de mensageria não conhece serviço nenhum pelo nome (só nas docstrings, de exemplo)."""
    achados = []
    for arquivo in (RAIZ / "bookstore" / "mensageria").glob("*.py"):
        arvore = ast.parse(arquivo.read_text(encoding="utf-8"))
        docstrings = {id(no.value) for no in ast.walk(arvore) if isinstance(no, ast.Expr)}
        for no in ast.walk(arvore):
            if isinstance(no, ast.Constant) and isinstance(no.value, str) and id(no) not in docstrings \
                    and any(servico in no.value for servico in topologia.SERVICOS):
                achados.append(f"{arquivo.name}:{no.lineno}: {no.value!r}")
    assert achados == []


def test_as_filas_saem_do_contrato():
    assert mensagens.filas_do_laboratorio() == {"livros.comandos": "livros.*", "ordens.eventos": "ordens.*",
                                                "pagamentos.comandos": "pagamentos.*"}
    assert mensagens.filas_em_que_publica("ordens") == ["livros.comandos", "pagamentos.comandos"]
    assert mensagens.filas_em_que_publica("livros") == ["ordens.eventos"]


def test_tabela_do_readme_e_a_que_python_m_bookstore_mensagens_imprime():
    readme = (RAIZ / "README.md").read_text(encoding="utf-8")
    resultado = rodar([sys.executable, "-m", "bookstore.mensagens"], cwd=RAIZ)
    assert resultado.returncode == 0, explicar(resultado)
    inicio, fim = "<!-- tabela: python -m bookstore.mensagens -->\n", "<!-- fim da tabela das mensagens -->"
    assert inicio in readme, "o README perdeu a tabela das mensagens"
    assert readme.split(inicio, 1)[1].split(fim, 1)[0] == resultado.stdout
