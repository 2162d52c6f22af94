"""O corpo de uma exportação OTLP/HTTP → o pedido em protobuf, sem confiar no cliente.

Descomprimir é onde mora a bomba: 1 MB de gzip pode virar 1 GiB. `gzip.decompress`
aloca tudo antes de saber o tamanho; aqui a descompressão é em pedaços e para assim
que passa do limite. Decodificar (protobuf ou OTLP/JSON) não confia em nada do que
está dentro: qualquer falha vira `CorpoInvalido`, que o receptor responde com 400.
"""
import zlib

from . import otlp

PEDACO = 64 * 1024
# Content-Encoding → wbits do zlib: gzip; "deflate" no HTTP é o formato zlib, mas há quem
# mande deflate cru, então 32 + 15 detecta o cabeçalho (gzip ou zlib) sozinho.
CODIFICACOES = {"gzip": 31, "x-gzip": 31, "deflate": 47}
PROTOBUF, JSON = "application/x-protobuf", "application/json"


class CorpoInvalido(ValueError):
    """O cliente mandou algo que não dá para ler: 400."""
    status = 400


class CorpoGrande(ValueError):
    """Passou do limite (antes ou depois de descomprimir): 413."""
    status = 413


class FormatoNaoAceito(ValueError):
    """Content-Type ou Content-Encoding que o receptor não fala: 415."""
    status = 415


def formato(content_type: str | None) -> str:
    """`application/x-protobuf` ou `application/json` (parâmetros como charset não importam)."""
    tipo = (content_type or "").split(";", 1)[0].strip().lower()
    if tipo not in (PROTOBUF, JSON):
        raise FormatoNaoAceito(f"Content-Type {content_type!r}: use {PROTOBUF} ou {JSON}")
    return tipo


def descomprimir(dados: bytes, codificacao: str | None, limite: int) -> bytes:
    """Os bytes descomprimidos, no máximo `limite`; passou disso, CorpoGrande (sem ter alocado
    mais que o limite e um pedaço)."""
    codificacao = (codificacao or "identity").strip().lower()
    if codificacao == "identity":
        if len(dados) > limite:
            raise CorpoGrande(f"corpo de {len(dados)} bytes passa do limite de {limite}")
        return dados
    if codificacao not in CODIFICACOES:
        raise FormatoNaoAceito(f"Content-Encoding {codificacao!r}: use gzip, deflate ou nenhum")
    saida = bytearray()
    restante = memoryview(dados)
    try:
        while restante:  # vários membros gzip seguidos valem (como no gzip.decompress)
            descompressor = zlib.decompressobj(CODIFICACOES[codificacao])
            entrada = bytes(restante)
            while not descompressor.eof:
                pedaco = descompressor.decompress(entrada, PEDACO)
                entrada = descompressor.unconsumed_tail
                if not pedaco and not entrada:
                    raise CorpoInvalido(f"{codificacao} cortado no meio")
                saida += pedaco
                if len(saida) > limite:
                    raise CorpoGrande(f"descomprimido passa do limite de {limite} bytes")
            restante = memoryview(descompressor.unused_data)
    except zlib.error as erro:
        raise CorpoInvalido(f"{codificacao} inválido: {erro}") from None
    return bytes(saida)


def decodificar(sinal: str, dados: bytes, tipo: str):
    """O pedido de exportação (protobuf) que o corpo descreve, em protobuf ou em OTLP/JSON."""
    try:
        if tipo == JSON:
            # OTLP/JSON: ids em hexadecimal, não base64 (o otlp.de_json converte).
            return otlp.de_json(sinal, dados)
        return otlp.TIPOS[sinal][0].FromString(dados)
    except RecursionError:
        raise CorpoInvalido("aninhado fundo demais") from None
    except Exception as erro:  # qualquer erro ao ler o que o cliente mandou é do cliente
        raise CorpoInvalido(f"{'OTLP/JSON' if tipo == JSON else 'protobuf'} inválido: "
                            f"{type(erro).__name__}: {str(erro)[:200]}") from None
