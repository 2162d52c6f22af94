"""Número de cartão: validação (Luhn, 13–19 dígitos), a única parte que guardamos, e o selo.

Compartilhado porque `ordens` valida o cartão antes de gravar a ordem (entrada
ruim não pode mexer em estoque) e `pagamentos` valida de novo ao cobrar.
Nenhum dos dois guarda, loga ou põe na telemetria mais que os últimos quatro dígitos.

O selo. Na compra por mensagens o número atravessa processos: fica em `cartoes_selados` até a reserva,
vai na outbox de ordens, na fila de pagamentos (em disco: quorum queue), talvez na fila de mortas — e
tudo isso passa pelo WAL do PostgreSQL. Em nenhum desses lugares ele fica legível: ordens o sela na
requisição com a chave pública de pagamentos (RSA-OAEP, SHA-256) e só pagamentos, com a chave privada,
o abre — na memória, para decidir a cobrança, guardando só o final. Por que selar e não mandar só o
final: pagamentos faz o papel de quem cobra o cartão, e quem cobra precisa do número; a forma da
cobrança fica a do POST /pagamentos. Por que não um token pedido a pagamentos antes da saga: seria uma
chamada HTTP na requisição, e com pagamentos fora o POST /ordens falharia — o contrário do que a compra
por mensagens promete (o 202 com qualquer vizinho fora). O selo é aleatório (OAEP): o mesmo cartão
selado duas vezes dá dois textos diferentes, e quem tem a chave pública não descobre o número
comparando selos.
"""
import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import config
from .erros import EntradaInvalida

_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class SeloInvalido(ValueError):
    """Um selo que esta chave privada não abre (outra chave, texto mexido)."""


def luhn_valido(digitos: str) -> bool:
    soma = 0
    for posicao, caractere in enumerate(reversed(digitos)):
        digito = int(caractere)
        if posicao % 2 == 1:
            digito = digito * 2 - 9 if digito > 4 else digito * 2
        soma += digito
    return soma % 10 == 0


def validar(dados: dict, campo: str = "cartao") -> str:
    numero = dados.get(campo)
    if not isinstance(numero, str) or not numero.isascii() or not numero.isdigit():
        raise EntradaInvalida(campo, "deve ser um texto só com dígitos")
    if not 13 <= len(numero) <= 19:
        raise EntradaInvalida(campo, "deve ter de 13 a 19 dígitos")
    if not luhn_valido(numero):
        raise EntradaInvalida(campo, "número de cartão inválido (falha no dígito verificador)")
    return numero


def final(numero: str) -> str:
    return numero[-4:]


def _pem(variavel: str) -> bytes:
    arquivo = config.ler(variavel)
    if not arquivo or not Path(arquivo).is_file():
        raise config.ConfiguracaoInvalida(f"{variavel}={arquivo or ''!r}: a compra por mensagens sela o cartão; "
                                          "aponte o arquivo PEM (o make local e o compose geram o par de chaves)")
    return Path(arquivo).read_bytes()


# Carregadas uma vez, ao subir: sem o arquivo, o processo não sobe (uma linha clara). E carregar a privada
# custa ~28 ms (o OpenSSL confere a chave inteira), contra ~0,2 ms para abrir um selo com ela já carregada.
def chave_publica(variavel: str = "CARTAO_CHAVE_PUBLICA") -> rsa.RSAPublicKey:
    return serialization.load_pem_public_key(_pem(variavel))


def chave_privada(variavel: str = "CARTAO_CHAVE_PRIVADA") -> rsa.RSAPrivateKey:
    return serialization.load_pem_private_key(_pem(variavel), password=None)


def selar(numero: str, chave: rsa.RSAPublicKey) -> str:
    return base64.b64encode(chave.encrypt(numero.encode(), _OAEP)).decode()


def abrir(selado: str, chave: rsa.RSAPrivateKey) -> str:
    try:
        return chave.decrypt(base64.b64decode(selado, validate=True), _OAEP).decode()
    except ValueError as erro:  # base64 ruim, ou o OAEP não confere (outra chave)
        raise SeloInvalido("o cartão selado não abre com a chave de pagamentos") from erro


def gerar_chaves(privada: Path, publica: Path, dono: int | None = None) -> None:
    """O par de chaves de pagamentos nestes dois arquivos (a privada 0600, a pública 0644), se ainda não
    existe. `dono`: o usuário do sistema que vai ler a privada (o compose grava como root)."""
    if publica.exists():
        return
    chave = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for arquivo in (privada, publica):
        arquivo.parent.mkdir(parents=True, exist_ok=True)
    descritor = os.open(privada, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descritor, "wb") as saida:
        saida.write(chave.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    if dono is not None:
        os.chown(privada, dono, dono)
    # A pública por último: a presença dela diz que o par está completo.
    publica.write_bytes(chave.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo))
