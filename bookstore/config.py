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


def _numero(nome: str, padrao, converter, descricao: str, minimo):
    """Lê NOME do ambiente com `converter`; vazio ou ausente dá o padrão."""
    bruto = os.environ.get(nome)
    if bruto is None or bruto == "":
        return padrao
    try:
        valor = converter(bruto)
    except ValueError:
        raise ConfiguracaoInvalida(f"{nome}={bruto!r} não é {descricao}") from None
    if valor < minimo:
        raise ConfiguracaoInvalida(f"{nome}={valor} deve ser >= {minimo}")
    return valor


def inteiro(nome: str, padrao: int, minimo: int = 0) -> int:
    return _numero(nome, padrao, int, "um número inteiro", minimo)


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
    return _numero(nome, padrao, float, "um número de segundos", 0)
