"""Autoteste do exercício 16: uma medição do make bench com a coluna amostrada e a razão que o
aluno leu na tabela, conferida no que o bench guardou em .bench/."""
from autoteste.exercicios import Criterio
from ferramentas import medicoes

TIPO = "medir"


def le_de() -> str:
    return f"as medições do make bench ({medicoes.pasta()})"

def numero(texto: str) -> float | None:
    """Aceita 0.803, 0,803, x0.803 ou ×0,803 (como a tabela imprime)."""
    try:
        return float(texto.strip().lstrip("x×").replace(",", "."))
    except ValueError:
        return None


def conferir(fonte, resposta: str) -> list[Criterio]:
    todas = medicoes.medicoes()
    com_amostragem = [m for m in todas if m["amostragem"] is not None]
    ultima = com_amostragem[-1] if com_amostragem else None
    clientes = max(ultima["razoes"]) if ultima else None
    certa = ultima["razoes"][clientes]["amostrado/desligado"]["vazao"] if ultima else None
    lida = numero(resposta)
    return [
        Criterio(bool(todas), f"há medições do make bench em .bench/: {len(todas)}",
                 "rode `make bench` (passo 1, ~5 min)"),
        Criterio(bool(ultima), "uma delas tem a coluna amostrada (BENCH_AMOSTRAGEM)",
                 "rode o passo 3: BENCH_AMOSTRAGEM=0.1 make bench"),
        Criterio(lida is not None and certa is not None and abs(lida - certa) < 0.0015,
                 f"a razão que você leu (amostrado contra SDK desligado, vazão, {clientes or 8} clientes) "
                 f"é a da medição: {resposta.strip() or '(sem resposta)'}",
                 "na saída do passo 3, a linha 'amostrado … contra SDK desligado: vazão x…' do bloco de "
                 f"{clientes or 8} clientes; responda com make confere EX=16 RESPOSTA=<número>"),
    ]
