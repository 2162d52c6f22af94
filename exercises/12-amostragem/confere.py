"""Autoteste do exercício 12: menos traces que compras, nenhum partido, métricas com todas."""
from autoteste.consultas import completa, compras


def conferir(fonte, resposta: str) -> list[tuple[bool, str, str]]:
    grupos = compras(fonte.spans())
    concluidas = fonte.total_do_contador("bookstore.ordens", {"bookstore.ordem.status": "concluida"})
    com_trace = sum(1 for grupo in grupos.values()
                    if any(s["atributos"].get("bookstore.ordem.status") == "concluida" for s in grupo))
    partidos = [t for t, grupo in grupos.items() if not completa(grupo)
                and any(s["atributos"].get("bookstore.ordem.status") == "concluida" for s in grupo)]
    return [
        (concluidas >= 20, f"as métricas contam as compras concluídas: {concluidas:.0f}",
         "faça as 40 compras (passo 2) e espere ~10 s pelas métricas"),
        (com_trace >= 1, f"há traces de compra concluída guardados: {com_trace}",
         "com 20%, alguns traces ficam: compre mais"),
        (concluidas >= 20 and com_trace <= 0.6 * concluidas,
         f"só uma parte das compras tem trace: {com_trace} de {concluidas:.0f}",
         "troque o amostrador em otel.env (passo 1) e reinicie o laboratório"),
        (com_trace >= 1 and not partidos, "nenhum trace guardado ficou pela metade (ordens, livros e pagamentos)",
         "use parentbased_traceidratio, não traceidratio: cada serviço segue a decisão de quem chamou"),
    ]
