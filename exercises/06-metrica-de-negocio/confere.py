"""Autoteste do exercício 06: as duas métricas chegaram (no receptor local, com o atributo)."""
from autoteste.consultas import tem_metrica
from autoteste.exercicios import Criterio

TIPO = "codigo"

CONTADOR, HISTOGRAMA = "bookstore.livros.vendidos", "bookstore.ordem.exemplares"


def conferir(fonte, resposta: str) -> list[Criterio]:
    nomes = fonte.nomes_de_metricas()
    criterios = [
        Criterio(tem_metrica(nomes, CONTADOR), f"a métrica {CONTADOR} chegou",
                 "crie o contador em ordens/telemetria.py, some nele em comprar (ordens/saga.py), antes do "
                 "`return ordem_id, 201`, reinicie e compre"),
        Criterio(tem_metrica(nomes, HISTOGRAMA), f"a métrica {HISTOGRAMA} chegou",
                 "crie o histograma e registre nele o total de exemplares da compra"),
    ]
    if hasattr(fonte, "pasta"):  # no modo local dá para ver os pontos, com os atributos e os baldes
        from telemetria_local import armazem
        pontos = [p for m in armazem.itens("metrics", fonte.pasta) if m["nome"] == CONTADOR for p in m["pontos"]]
        criterios.append(Criterio(any("bookstore.livro.id" in p for p in pontos),
                                  f"{CONTADOR} tem o atributo bookstore.livro.id",
                                  '.add(item["quantidade"], {"bookstore.livro.id": item["livro_id"]})'))
        limites = baldes(armazem.ler("metrics", fonte.pasta), HISTOGRAMA)
        criterios.append(Criterio(
            {1.0, 2.0} <= set(limites), f"{HISTOGRAMA} separa compras de 1, 2 e 3 exemplares: baldes "
            f"{', '.join(f'{b:g}' for b in limites) or '(nenhum)'}",
            "explicit_bucket_boundaries_advisory=[1, 2, 3, 5, 10] no create_histogram: os baldes padrão "
            "(0, 5, 10…) põem toda compra em (0, 5]"))
    return criterios


def baldes(pedidos, nome: str) -> list[float]:
    """Os limites dos baldes do histograma, no ponto mais recente que chegou."""
    limites = []
    for pedido in pedidos:
        for por_recurso in pedido.resource_metrics:
            for por_escopo in por_recurso.scope_metrics:
                for metrica in por_escopo.metrics:
                    if metrica.name == nome and metrica.WhichOneof("data") == "histogram":
                        for ponto in metrica.histogram.data_points:
                            limites = list(ponto.explicit_bounds)
    return limites
