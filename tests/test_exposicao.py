"""O laboratório é da máquina do aluno, e nada que um cliente mande o derruba.

Outra origem não muda estado; o PostgreSQL do modo local só aceita quem tem a senha; falha
injetada malformada é ignorada, e latência além do prazo termina em 504 JSON antes do worker
morrer; o worker que morre por timeout responde JSON. Cliente do Flask, sem processos."""
import json
import os
import socket
import subprocess
from pathlib import Path

import psycopg
import pytest
import yaml

import livros
import pagamentos
from bookstore import db
from bookstore.config import RAIZ
from tests.apoio import CARTAO_APROVADO, criar_app_de_teste, explicar


@pytest.fixture
def app_livros(postgres):
    app = criar_app_de_teste(postgres, livros.create_app, "teste_livros", CATALOGO_INICIAL=False)
    yield app
    db.fechar(app)


NOVO_LIVRO = {"titulo": "Livro da origem", "preco": 10, "estoque": 1}


def test_post_de_outra_origem_e_403_e_nada_muda(app_livros):
    client = app_livros.test_client()
    resposta = client.post("/livros", json=NOVO_LIVRO, headers={"Origin": "http://evil.example"})
    assert resposta.status_code == 403
    assert resposta.json["erro"].startswith("requisição de outra origem recusada") and resposta.json["origem"]
    # Um POST "simples" de formulário (text/plain, sem preflight) também.
    simples = client.post("/livros", data=json.dumps(NOVO_LIVRO), content_type="text/plain",
                          headers={"Origin": "null"})
    assert simples.status_code == 403
    assert client.get("/livros").json == []


def test_curl_sem_origin_e_a_propria_pagina_docs_continuam_funcionando(app_livros):
    client = app_livros.test_client()
    assert client.post("/livros", json=NOVO_LIVRO).status_code == 201  # curl não manda Origin
    propria = client.post("/livros", json=NOVO_LIVRO, headers={"Origin": "http://localhost"})
    assert propria.status_code == 201  # a origem do /docs do próprio serviço (host do test client)
    assert client.get("/livros", headers={"Origin": "http://evil.example"}).status_code == 200  # ler não muda nada


def test_o_openapi_documenta_o_403_nas_operacoes_que_mudam_estado(app_livros):
    documento = app_livros.test_client().get("/openapi.json").json
    assert "403" in documento["paths"]["/livros"]["post"]["responses"]
    assert "403" not in documento["paths"]["/livros"]["get"]["responses"]


def test_compose_publica_so_em_127_0_0_1_a_menos_que_o_instrutor_abra():
    compose = yaml.safe_load((RAIZ / "docker-compose.yml").read_text(encoding="utf-8"))
    publicadas = [porta for servico in compose["services"].values() for porta in servico.get("ports", [])]
    assert publicadas and all(porta.startswith("${PUBLICAR_EM:-127.0.0.1}:") for porta in publicadas), publicadas
    assert "PUBLICAR_EM=0.0.0.0 docker compose up" in (RAIZ / "README.md").read_text(encoding="utf-8")


def test_postgresql_do_modo_local_recusa_quem_nao_tem_a_senha(postgres):
    if not hasattr(postgres, "raiz"):
        pytest.skip("POSTGRES_URL: o servidor não é o embutido do laboratório")
    with psycopg.connect(postgres.url()) as conexao:  # o laboratório, com a senha
        assert conexao.execute("SELECT 1").fetchone() == (1,)
    sem_senha = f"postgresql://postgres@127.0.0.1:{postgres.porta}/postgres"
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(sem_senha, connect_timeout=3)
    senha = Path(postgres.raiz) / "senha"
    assert senha.stat().st_mode & 0o077 == 0  # só o dono lê a senha
    if os.geteuid() == 0 and Path("/usr/bin/python3").exists():
        # Outro usuário da máquina (nobody, com o Python do sistema, só a biblioteca padrão): não lê a
        # senha, e o servidor pede senha (AuthenticationSASL, código 10) em vez de deixá-lo entrar (0).
        sonda = (f"import pathlib, socket, struct\n"
                 f"try: pathlib.Path({str(senha)!r}).read_text(); print('LEU A SENHA')\n"
                 f"except PermissionError: print('sem permissão para a senha')\n"
                 f"corpo = struct.pack('!i', 196608) + b'user\\0postgres\\0database\\0postgres\\0\\0'\n"
                 f"s = socket.create_connection(('127.0.0.1', {postgres.porta}), timeout=5)\n"
                 f"s.sendall(struct.pack('!i', len(corpo) + 4) + corpo)\n"
                 f"tipo, _, codigo = struct.unpack('!cii', s.recv(9))\n"
                 f"print('autenticação pedida:', tipo.decode(), codigo)")
        outro = subprocess.run(["/usr/bin/python3", "-c", sonda], user="nobody", capture_output=True, text=True,
                               timeout=30, cwd="/")
        assert "sem permissão para a senha" in outro.stdout, explicar(outro)
        assert "autenticação pedida: R 10" in outro.stdout, explicar(outro)
    assert "trust" not in (Path(postgres.dados) / "pg_hba.conf").read_text().split("\n", 1)[1]


@pytest.fixture
def app_pagamentos(postgres):
    app = criar_app_de_teste(postgres, pagamentos.create_app, "teste_pagamentos", GUNICORN_TIMEOUT=2)
    yield app
    db.fechar(app)


def pagar(client, baggage: str):
    return client.post("/pagamentos", json={"ordem_id": 1, "valor": 10, "cartao": CARTAO_APROVADO},
                       headers={"baggage": f"bookstore.falha={baggage}"})


@pytest.mark.parametrize("valor", ["pagamentos:latencia_ms=%C2%B2", "pagamentos:latencia_ms=-5",
                                   "pagamentos:latencia_ms=abc", "pagamentos:devagar"])
def test_falha_malformada_no_baggage_e_ignorada_com_uma_linha_de_log(app_pagamentos, valor, caplog):
    resposta = pagar(app_pagamentos.test_client(), valor)
    assert resposta.status_code == 201, resposta.json
    assert any("ignorado para pagamentos" in registro.getMessage() for registro in caplog.records)


def test_latencia_acima_do_prazo_do_worker_vira_504_em_json_dentro_do_prazo(app_pagamentos):
    import time
    inicio = time.monotonic()
    resposta = pagar(app_pagamentos.test_client(), "pagamentos:latencia_ms=60000")
    duracao = time.monotonic() - inicio
    assert resposta.status_code == 504 and resposta.is_json
    assert resposta.json["latencia_ms"] == 60000 and resposta.json["prazo_ms"] == 1000  # GUNICORN_TIMEOUT 2 s
    assert 0.9 <= duracao < 2, f"{duracao:.2f} s"  # termina antes do timeout do worker
    assert app_pagamentos.test_client().get("/pagamentos?ordem_id=1").json == []  # nada cobrado


def test_worker_morto_por_timeout_responde_json_e_nao_a_pagina_html():
    """O master manda SIGABRT ao worker que passou de GUNICORN_TIMEOUT; o worker sai com SystemExit no
    meio da requisição. O que o cliente lê vem de handle_error: aqui, com um socket de verdade."""
    from bookstore.gunicorn_worker import WorkerComErrosJSON

    class Cfg:
        limit_request_line, limit_request_field_size, limit_request_fields, timeout = 4094, 8190, 100, 30

    class Log:
        def warning(self, *args):
            pass

    worker = WorkerComErrosJSON.__new__(WorkerComErrosJSON)
    worker.cfg, worker.log = Cfg(), Log()
    servidor, cliente = socket.socketpair()
    with servidor, cliente:
        worker.handle_error(None, servidor, ("127.0.0.1", 1), SystemExit(1))
        servidor.shutdown(socket.SHUT_WR)
        bruto = cliente.recv(65536).decode()
    cabecalho, _, corpo = bruto.partition("\r\n\r\n")
    assert cabecalho.startswith("HTTP/1.1 503 ") and "Content-Type: application/json" in cabecalho
    assert "passou de 30 s (GUNICORN_TIMEOUT)" in json.loads(corpo)["erro"]



def test_pasta_temporaria_de_um_banco_cujo_dono_morreu_e_apagada_no_proximo_inicio(tmp_path, monkeypatch):
    """Um make local morto por SIGKILL (ou pela falta de memória) não roda limpeza nenhuma: a pasta
    do PostgreSQL ficava em /tmp. O próximo início a apaga — e só as de dono morto."""
    import subprocess
    import tempfile
    from modo_local import postgres
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    morto = subprocess.Popen(["true"])
    morto.wait()
    sobra, viva = tmp_path / "bookstore-pg-sobra", tmp_path / "bookstore-pg-viva"
    for pasta, dono in ((sobra, morto.pid), (viva, __import__("os").getpid())):
        (pasta / "dados").mkdir(parents=True)
        (pasta / "dono").write_text(str(dono))
    postgres.varrer_sobras()
    assert not sobra.exists() and viva.exists()
