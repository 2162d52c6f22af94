"""O cartão selado (bookstore/cartao.py) e a varredura do disco que o `make caos` e a suíte usam
(ferramentas/invariantes.cartoes_em_disco). Rápidos: sem banco, sem broker."""
from pathlib import Path

import pytest

from bookstore import cartao, config
from ferramentas.invariantes import cartoes_em_disco
from tests.apoio import CARTAO_APROVADO


@pytest.fixture(scope="module")
def chaves(tmp_path_factory):
    pasta = tmp_path_factory.mktemp("chaves")
    cartao.gerar_chaves(pasta / "privada.pem", pasta / "publica.pem")
    return (pasta / "privada.pem").read_bytes(), (pasta / "publica.pem").read_bytes(), pasta


def carregadas(monkeypatch, privada: Path, publica: Path):
    monkeypatch.setenv("CARTAO_CHAVE_PRIVADA", str(privada))
    monkeypatch.setenv("CARTAO_CHAVE_PUBLICA", str(publica))
    return cartao.chave_privada(), cartao.chave_publica()


def test_so_a_chave_privada_abre_e_o_selo_nao_mostra_o_numero(chaves, tmp_path, monkeypatch):
    _, _, pasta = chaves
    privada, publica = carregadas(monkeypatch, pasta / "privada.pem", pasta / "publica.pem")
    selado = cartao.selar(CARTAO_APROVADO, publica)
    assert CARTAO_APROVADO not in selado and cartao.abrir(selado, privada) == CARTAO_APROVADO
    assert cartao.selar(CARTAO_APROVADO, publica) != selado  # aleatório: selos não se comparam
    cartao.gerar_chaves(tmp_path / "outra.pem", tmp_path / "outra-publica.pem")
    outra, _ = carregadas(monkeypatch, tmp_path / "outra.pem", tmp_path / "outra-publica.pem")
    with pytest.raises(cartao.SeloInvalido):
        cartao.abrir(selado, outra)
    with pytest.raises(cartao.SeloInvalido):
        cartao.abrir("não é base64", privada)
    assert oct((pasta / "privada.pem").stat().st_mode & 0o777) == "0o600"


def test_gerar_chaves_de_novo_mantem_o_par(chaves):
    privada, publica, pasta = chaves
    cartao.gerar_chaves(pasta / "privada.pem", pasta / "publica.pem")
    assert (pasta / "privada.pem").read_bytes() == privada and (pasta / "publica.pem").read_bytes() == publica


def test_sem_o_arquivo_da_chave_o_processo_nao_sobe(monkeypatch, tmp_path):
    monkeypatch.setenv("CARTAO_CHAVE_PRIVADA", str(tmp_path / "nao-existe.pem"))
    with pytest.raises(config.ConfiguracaoInvalida, match="CARTAO_CHAVE_PRIVADA=.*aponte o arquivo PEM"):
        cartao.chave_privada()


def test_a_varredura_do_disco_acha_um_numero_legivel_em_qualquer_arquivo(chaves, tmp_path, monkeypatch):
    _, publica, pasta = chaves
    _, publica = carregadas(monkeypatch, pasta / "privada.pem", pasta / "publica.pem")
    (tmp_path / "wal").mkdir()
    (tmp_path / "wal" / "000000010000000000000001").write_bytes(b"\x00\x01" + CARTAO_APROVADO.encode() + b"\xff")
    (tmp_path / "fila.segment").write_text(cartao.selar(CARTAO_APROVADO, publica))
    nome, lidos, violacoes = cartoes_em_disco([tmp_path], [CARTAO_APROVADO])
    assert lidos == 2 and violacoes == [f"{tmp_path / 'wal' / '000000010000000000000001'}: o cartão 4111…1111 legível"]
