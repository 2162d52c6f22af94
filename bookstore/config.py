"""Leitura de variáveis de ambiente com tipo e padrão.

Toda a configuração do laboratório vem do ambiente (a mesma no Docker e no modo
local); valores inválidos param o serviço no arranque com uma mensagem clara, em
vez de falhar mais tarde no meio de uma compra.
"""
import os
from decimal import Decimal, InvalidOperation


class ConfiguracaoInvalida(RuntimeError):
    pass


def texto(nome: str, padrao: str) -> str:
    return os.environ.get(nome, padrao)


def inteiro(nome: str, padrao: int, minimo: int = 0) -> int:
    bruto = os.environ.get(nome)
    if bruto is None or bruto == "":
        return padrao
    try:
        valor = int(bruto)
    except ValueError:
        raise ConfiguracaoInvalida(f"{nome}={bruto!r} não é um número inteiro") from None
    if valor < minimo:
        raise ConfiguracaoInvalida(f"{nome}={valor} deve ser >= {minimo}")
    return valor


def decimal(nome: str, padrao: str) -> Decimal:
    bruto = os.environ.get(nome) or padrao
    try:
        return Decimal(bruto)
    except InvalidOperation:
        raise ConfiguracaoInvalida(f"{nome}={bruto!r} não é um número") from None


def booleano(nome: str, padrao: bool) -> bool:
    bruto = os.environ.get(nome)
    if bruto is None or bruto == "":
        return padrao
    return bruto.strip().lower() in {"1", "true", "sim", "yes", "on"}


def segundos(nome: str, padrao: float) -> float:
    """Durações (timeouts, intervalos); aceita frações, como 0.5."""
    bruto = os.environ.get(nome)
    if bruto is None or bruto == "":
        return padrao
    try:
        valor = float(bruto)
    except ValueError:
        raise ConfiguracaoInvalida(f"{nome}={bruto!r} não é um número de segundos") from None
    if valor < 0:
        raise ConfiguracaoInvalida(f"{nome}={valor} não pode ser negativo")
    return valor
