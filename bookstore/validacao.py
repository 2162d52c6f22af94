"""Validação do corpo das requisições.

Duas falhas diferentes, dois status diferentes (contrato):
- o corpo não é JSON → 400;
- é JSON mas viola o esquema → 422, com o campo errado no texto e em `campo`.

Escrita à mão de propósito: são poucos campos, e assim cada regra fica à vista
de quem lê o serviço.
"""
from decimal import Decimal

from flask import current_app, request

from .erros import ErroAPI, EntradaInvalida

# Limites do PostgreSQL: INTEGER e NUMERIC(12,2).
MAIOR_INTEIRO = 2**31 - 1
MAIOR_VALOR = Decimal("9999999999.99")
CENTAVO = Decimal("0.01")
# Nenhum corpo do contrato passa de 3 níveis ({"itens": [{...}]}). O parser é
# recursivo: um `[[[[…]]]]` de 100 000 níveis estouraria a pilha (seria um 500).
PROFUNDIDADE_MAXIMA = 20
# O tamanho máximo do corpo (413 acima disso) é MAX_CONTENT_LENGTH, em aplicacao.py.


def _profundidade_passa_do_limite(bruto: bytes) -> bool:
    """Conta o aninhamento de [ e { fora de strings, sem fazer o parse."""
    if bruto.count(b"[") + bruto.count(b"{") <= PROFUNDIDADE_MAXIMA:
        return False  # o caminho comum: poucos colchetes, nem precisa olhar
    nivel, em_texto, escapado = 0, False, False
    for byte in bruto:
        if em_texto:
            if escapado:
                escapado = False
            elif byte == 0x5C:  # \
                escapado = True
            elif byte == 0x22:  # "
                em_texto = False
        elif byte == 0x22:
            em_texto = True
        elif byte in (0x5B, 0x7B):  # [ {
            nivel += 1
            if nivel > PROFUNDIDADE_MAXIMA:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            nivel -= 1
    return False


def corpo_json() -> dict:
    """O corpo como objeto JSON. Aceita qualquer Content-Type: é o que o aluno espera do curl."""
    bruto = request.get_data(cache=True)  # acima de MAX_CONTENT_LENGTH, o Flask já respondeu 413
    if _profundidade_passa_do_limite(bruto):
        raise ErroAPI(400, f"requisição inválida: JSON aninhado em mais de {PROFUNDIDADE_MAXIMA} níveis")
    try:
        dados = current_app.json.loads(bruto)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ErroAPI(400, "requisição inválida: o corpo não é um JSON válido") from None
    if not isinstance(dados, dict):
        raise ErroAPI(422, "o corpo deve ser um objeto JSON", campo="corpo")
    return dados


def _eh_inteiro(valor) -> bool:
    # bool é subclasse de int em Python: `true` não é uma quantidade.
    return isinstance(valor, int) and not isinstance(valor, bool)


def _como_inteiro(valor):
    """JSON tem um tipo de número só: 2, 2.0 e 2e0 são o inteiro 2 (como no JSON
    Schema do OpenAPI). 2.5 não é. Devolve None se não for inteiro."""
    if _eh_inteiro(valor):
        return valor
    if isinstance(valor, Decimal) and valor.is_finite() and abs(valor) <= MAIOR_INTEIRO * 10 \
            and valor == valor.to_integral_value():
        return int(valor)
    return None


def inteiro(dados: dict, campo: str, *, minimo: int = 0, obrigatorio: bool = True,
            nome: str | None = None) -> int | None:
    nome = nome or campo
    valor = dados.get(campo)
    if valor is None:
        if obrigatorio:
            raise EntradaInvalida(nome, "é obrigatório")
        return None
    valor = _como_inteiro(valor)
    if valor is None:
        raise EntradaInvalida(nome, "deve ser um número inteiro")
    if valor < minimo:
        raise EntradaInvalida(nome, f"deve ser maior ou igual a {minimo}")
    if valor > MAIOR_INTEIRO:
        raise EntradaInvalida(nome, f"deve ser no máximo {MAIOR_INTEIRO}")
    return valor


def dinheiro(dados: dict, campo: str, *, positivo: bool = False) -> Decimal:
    """Valor monetário exato: número JSON com no máximo duas casas (39.9 e 39.90 valem)."""
    valor = dados.get(campo)
    if valor is None:
        raise EntradaInvalida(campo, "é obrigatório")
    if _eh_inteiro(valor):
        valor = Decimal(valor)
    if not isinstance(valor, Decimal) or not valor.is_finite():
        raise EntradaInvalida(campo, "deve ser um número")
    if positivo and valor <= 0:
        raise EntradaInvalida(campo, "deve ser maior que zero")
    if valor < 0:
        raise EntradaInvalida(campo, "deve ser maior ou igual a zero")
    if valor > MAIOR_VALOR:
        raise EntradaInvalida(campo, f"deve ser no máximo {MAIOR_VALOR}")
    # Só depois do limite: quantize de um número gigante estoura a precisão do Decimal.
    if valor != valor.quantize(CENTAVO):
        raise EntradaInvalida(campo, "deve ter no máximo duas casas decimais")
    return valor.quantize(CENTAVO)


def texto(dados: dict, campo: str, *, obrigatorio: bool = True, maximo: int = 200) -> str | None:
    valor = dados.get(campo)
    if valor is None:
        if obrigatorio:
            raise EntradaInvalida(campo, "é obrigatório")
        return None
    if not isinstance(valor, str):
        raise EntradaInvalida(campo, "deve ser um texto")
    valor = valor.strip()
    if "\x00" in valor or any("\ud800" <= caractere <= "\udfff" for caractere in valor):
        # O PostgreSQL não guarda NUL em TEXT, e um surrogate solto não vira UTF-8 (eram 500).
        raise EntradaInvalida(campo, "contém um caractere que não pode ser gravado (NUL ou surrogate)")
    if not valor:
        # Opcional também: "" (ou só espaços) não é "sem autor" — o OpenAPI diz minLength 1, e
        # gravar null calado deixava servidor e documentação discordando.
        raise EntradaInvalida(campo, "não pode ser vazio" + ("" if obrigatorio else " (omita o campo ou use null)"))
    if len(valor) > maximo:
        raise EntradaInvalida(campo, f"deve ter no máximo {maximo} caracteres")
    return valor


def itens_de_compra(dados: dict, *, maximo: int = 50) -> list[dict]:
    """`itens: [{"livro_id", "quantidade" >= 1}]`, sem livro repetido (some as quantidades)."""
    itens = dados.get("itens")
    if itens is None:
        raise EntradaInvalida("itens", "é obrigatório")
    if not isinstance(itens, list) or not itens:
        raise EntradaInvalida("itens", "deve ser uma lista com pelo menos um item")
    if len(itens) > maximo:
        raise EntradaInvalida("itens", f"deve ter no máximo {maximo} itens")
    validos, vistos = [], set()
    for i, item in enumerate(itens):
        if not isinstance(item, dict):
            raise EntradaInvalida(f"itens[{i}]", "deve ser um objeto")
        livro_id = inteiro(item, "livro_id", minimo=1, nome=f"itens[{i}].livro_id")
        quantidade = inteiro(item, "quantidade", minimo=1, nome=f"itens[{i}].quantidade")
        if quantidade > 1000:
            raise EntradaInvalida(f"itens[{i}].quantidade", "deve ser no máximo 1000")
        if livro_id in vistos:
            raise EntradaInvalida(f"itens[{i}].livro_id", "livro repetido; some as quantidades num item só")
        vistos.add(livro_id)
        validos.append({"livro_id": livro_id, "quantidade": quantidade})
    return validos


TAMANHO_MAXIMO_DA_CHAVE = 200


def _chave(valor: str | None, campo: str) -> str | None:
    if valor is not None and (not valor.strip() or len(valor) > TAMANHO_MAXIMO_DA_CHAVE):
        raise EntradaInvalida(campo, f"deve ter de 1 a {TAMANHO_MAXIMO_DA_CHAVE} caracteres")
    return valor


def idempotency_key() -> str | None:
    """O cabeçalho `Idempotency-Key` (opcional): de 1 a 200 caracteres, ou None se não veio."""
    return _chave(request.headers.get("Idempotency-Key"), "Idempotency-Key")


def chave_na_consulta() -> str | None:
    """`?chave=` (opcional): uma Idempotency-Key procurada, com a mesma regra do cabeçalho."""
    return _chave(request.args.get("chave"), "chave")


def paginacao() -> tuple[int, int]:
    """`?limite=` (padrão 50, máximo 200) e `?offset=` (padrão 0)."""
    def ler(nome, padrao, maximo):
        bruto = request.args.get(nome)
        if bruto is None:
            return padrao
        if not bruto.isdigit():
            raise EntradaInvalida(nome, "deve ser um inteiro não negativo")
        valor = int(bruto)
        if valor > maximo:
            raise EntradaInvalida(nome, f"deve ser no máximo {maximo}")
        return valor

    limite = ler("limite", 50, 200)
    if limite == 0:
        raise EntradaInvalida("limite", "deve ser maior que zero")
    return limite, ler("offset", 0, MAIOR_INTEIRO)
