"""O que os testes usam em comum: esperar sem dormir à toa, rodar comandos mostrando o stderr,
bancos de teste e atalhos HTTP para os serviços de verdade. As fixtures ficam em conftest.py."""
import subprocess
from decimal import Decimal

import psycopg
import requests
import simplejson

from autoteste.consultas import esperar  # noqa: F401 — a espera com prazo, para os testes também
from bookstore import topologia
from supervisao.portas import porta_livre

CARTAO_APROVADO = "4111111111111111"
CARTAO_RECUSADO = "4000000000000002"
# Cartões que só as varreduras do disco usam (aprovado, 15 dígitos, recusado): um achado é destas compras.
CARTOES_DA_VARREDURA = ("4012888888881881", "378282246310005", "5200000070000002")


# --- esperar e rodar ---------------------------------------------------------------------------
def explicar(resultado: subprocess.CompletedProcess) -> str:
    """A mensagem de uma asserção sobre um comando: o comando, o código, o stdout e o stderr."""
    comando = " ".join(map(str, resultado.args)) if isinstance(resultado.args, list) else resultado.args
    return (f"\n$ {comando}\n(código {resultado.returncode})\n--- stdout ---\n{resultado.stdout or ''}"
            f"\n--- stderr ---\n{resultado.stderr or ''}")


def rodar(comando: list, **opcoes) -> subprocess.CompletedProcess:
    """subprocess.run com saída capturada em texto; use `explicar(resultado)` na asserção."""
    return subprocess.run(comando, capture_output=True, text=True, **{"timeout": 120, **opcoes})


def projeto_com_git(destino):
    """O projeto como está agora, copiado para `destino` com um git próprio de um commit só: "o laboratório"
    de `make restaura` (o que mudar depois é o que um exercício deixa para o outro)."""
    import shutil
    from bookstore.config import RAIZ
    shutil.copytree(RAIZ, destino, ignore=shutil.ignore_patterns(
        ".venv", ".git", ".telemetria", ".dados-locais", "__pycache__", ".pytest_cache", ".ferramentas", "node_modules"))
    for comando in (["git", "init", "-q"], ["git", "add", "-A"],
                    ["git", "-c", "user.name=aula", "-c", "user.email=aula@exemplo", "commit", "-qm", "o laboratório"]):
        feito = rodar(comando, cwd=destino)
        assert feito.returncode == 0, explicar(feito)
    return destino


# --- bancos --------------------------------------------------------------------------------------
def cartoes_legiveis_em_disco(postgres, *pastas) -> tuple[int, list[str]]:
    """(arquivos lidos, achados) dos CARTOES_DA_VARREDURA na pasta do PostgreSQL (os bancos e o WAL,
    depois de um CHECKPOINT: nada fica só na memória) e nas outras pastas."""
    from ferramentas.invariantes import cartoes_em_disco
    import pytest
    if not getattr(postgres, "raiz", None):
        pytest.skip("um PostgreSQL de fora (POSTGRES_URL): a pasta dele não é desta suíte")
    with psycopg.connect(postgres.url(), autocommit=True) as conexao:
        conexao.execute("CHECKPOINT")
    _, lidos, achados = cartoes_em_disco([postgres.raiz, *pastas], CARTOES_DA_VARREDURA)
    return lidos, achados


def esvaziar(url: str, reiniciar_ids: bool = True) -> None:
    """Apaga todas as linhas de todas as tabelas (e, com `reiniciar_ids`, reinicia as sequências)."""
    with psycopg.connect(url, autocommit=True) as conexao:
        tabelas = [linha[0] for linha in conexao.execute(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public'")]
        if tabelas:
            conexao.execute(f"TRUNCATE {', '.join(tabelas)} {'RESTART' if reiniciar_ids else 'CONTINUE'} IDENTITY CASCADE")


def criar_app_de_teste(postgres, fabrica, banco: str, reiniciar_ids: bool = True, **config):
    """A app de um serviço num banco recém-esvaziado (compartilhado pela sessão), com o esquema
    aplicado pelo passo explícito (o mesmo do `flask init-db`), como o app fixture do flaskr."""
    from bookstore import db
    url = postgres.criar_banco(banco)
    app = fabrica({"TESTING": True, "DATABASE_URL": url, "ADMIN_HABILITADO": True, **config})
    db.preparar(app)
    esvaziar(url, reiniciar_ids)
    return app


def contar(url: str, sql: str, *params):
    with psycopg.connect(url) as conexao:
        return conexao.execute(sql, params).fetchone()[0]


def portas_livres() -> dict:
    return {nome: porta_livre() for nome in topologia.SERVICOS}


# --- HTTP contra serviços de verdade ------------------------------------------------------------
def json_de(resposta: requests.Response):
    return simplejson.loads(resposta.content, use_decimal=True)


def criar_livro(lab, preco="39.90", estoque=5, titulo="Livro de Teste") -> int:
    corpo = simplejson.dumps({"titulo": titulo, "preco": Decimal(preco), "estoque": estoque}, use_decimal=True)
    resposta = requests.post(lab.url("livros") + "/livros", data=corpo, timeout=5)
    assert resposta.status_code == 201, resposta.text
    return resposta.json()["id"]


def estoque(lab, livro_id: int) -> int:
    return requests.get(f"{lab.url('livros')}/livros/{livro_id}", timeout=5).json()["estoque"]


def reservas_da_ordem(lab, ordem_id: int) -> list[dict]:
    return requests.get(f"{lab.url('livros')}/reservas?ordem_id={ordem_id}", timeout=5).json()


def pagamentos_da_ordem(lab, ordem_id: int) -> list[dict]:
    return json_de(requests.get(f"{lab.url('pagamentos')}/pagamentos?ordem_id={ordem_id}", timeout=5))


def injetar_falha(lab, servico: str, latencia_ms: int = 0, taxa_erro: float = 0) -> None:
    resposta = requests.put(f"{lab.url(servico)}/admin/falhas",
                            json={"latencia_ms": latencia_ms, "taxa_erro": taxa_erro}, timeout=5)
    assert resposta.status_code == 200, resposta.text


def exigir_rabbitmq() -> None:
    """Pula o teste, dizendo como instalar, se a máquina não tem o rabbitmq-server (os da compra por
    mensagens sobem um de verdade; `make test` o instala como root no Debian: scripts/preparar-rabbitmq.sh)."""
    import pytest

    from modo_local.rabbitmq import RabbitMQAusente, achar_servidor
    try:
        achar_servidor()
    except RabbitMQAusente as erro:
        pytest.skip(str(erro))
