"""Autoteste do exercício 06: as duas métricas chegaram (no receptor local, com o atributo)."""
from autoteste.consultas import tem_metrica
from autoteste.exercicios import Criterio

TIPO = "codigo"

CONTADOR, HISTOGRAMA = "bookstore.livros.vendidos", "bookstore.ordem.exemplares"


def conferir(fonte, resposta: str) -> list[Criterio]:
    nomes = fonte.nomes_de_metricas()
    criterios = [
        Criterio(tem_metrica(nomes, CONTADOR), f"a métrica {CONTADOR} chegou",
                 "crie o contador em ordens/telemetria.py, some nele depois de concluir a ordem, reinicie, "
                 "compre e espere ~10 s (o intervalo de exportação das métricas)"),
        Criterio(tem_metrica(nomes, HISTOGRAMA), f"a métrica {HISTOGRAMA} chegou",
                 "crie o histograma e registre nele o total de exemplares da compra"),
    ]
    if hasattr(fonte, "pasta"):  # no modo local dá para ver os pontos, com os atributos
        from telemetria_local import armazem
        pontos = [p for m in armazem.itens("metrics", fonte.pasta) if m["nome"] == CONTADOR for p in m["pontos"]]
        criterios.append(Criterio(any("bookstore.livro.id" in p for p in pontos),
                                  f"{CONTADOR} tem o atributo bookstore.livro.id",
                                  '.add(item["quantidade"], {"bookstore.livro.id": item["livro_id"]})'))
    return criterios
