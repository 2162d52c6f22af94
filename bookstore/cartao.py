"""Número de cartão: validação (Luhn, 13–19 dígitos) e a única parte que guardamos.

Compartilhado porque `ordens` valida o cartão antes de gravar a ordem (entrada
ruim não pode mexer em estoque) e `pagamentos` valida de novo ao cobrar.
Nenhum dos dois guarda, loga ou põe na telemetria mais que os últimos quatro dígitos.
"""
from .erros import EntradaInvalida


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
