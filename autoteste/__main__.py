"""`make confere EX=04` · `python -m autoteste 04 [--resposta VALOR]`.

Imprime ✔/✘ por critério, com uma dica em cada ✘; sai com 0 só se todos passarem. Antes de julgar,
espera a telemetria que ainda está a caminho (telemetria_local.em_voo): um ✘ nunca é só atraso."""
import argparse
import sys

from telemetria_local.em_voo import Espera, FonteQueEspera
from telemetria_local.fontes import FonteDocker, fonte_do_ambiente

from . import estado
from .exercicios import Criterio, carregar, com_autoteste, pasta_do_exercicio


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autoteste", description="Confere um exercício.")
    parser.add_argument("exercicio", help="o número do exercício, como 01 ou 4")
    parser.add_argument("--resposta", default="", help="o que o exercício pede para você achar (ex.: um trace id)")
    args = parser.parse_args(argv)
    pasta = pasta_do_exercicio(args.exercicio)
    if pasta is None:
        disponiveis = ", ".join(outra.name[:2] for outra in com_autoteste())
        print(f"✘ não há autoteste para o exercício {args.exercicio!r}; os que têm: {disponiveis}")
        return 2
    fonte = fonte_do_ambiente()
    # Só o que o exercício lê é esperado: o trace na primeira leitura de spans, a métrica na de métricas.
    fonte = FonteQueEspera(fonte, Espera(docker=isinstance(fonte, FonteDocker)))
    exercicio = carregar(pasta)
    # Um autoteste que não lê a telemetria (o 16 lê o que o make bench guardou) diz de onde lê.
    origem = exercicio.le_de() if hasattr(exercicio, "le_de") else f"do {fonte.nome}"
    print(f"Exercício {pasta.name} — lendo {origem}\n")
    # O que ficou de um exercício anterior e muda o que este mede (a config do 14 no 19, a latência do 21).
    avisos = estado.avisos(pasta, liga_falhas=getattr(exercicio, "LIGA_FALHAS", False))
    if avisos:
        print("\n".join(avisos) + "\n")
    criterios = [Criterio(*criterio) for criterio in exercicio.conferir(fonte, args.resposta.strip())]
    for ok, texto, dica in criterios:
        print(f"{'✔' if ok else '✘'} {texto}")
        if not ok:
            print(f"    dica: {dica}")
    faltam = sum(1 for ok, *_ in criterios if not ok)
    print("\nTudo certo! Pode seguir para o próximo." if not faltam else f"\n{faltam} critério(s) por cumprir.")
    return 0 if not faltam else 1


if __name__ == "__main__":
    sys.exit(main())
