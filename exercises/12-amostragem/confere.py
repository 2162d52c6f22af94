"""Autoteste do exercício 12: menos traces que compras, nenhum partido, métricas com todas."""
from autoteste.consultas import completa, compras
from autoteste.exercicios import Criterio

TIPO = "configurar"


def conferir(fonte, resposta: str) -> list[Criterio]:
    grupos = compras(fonte.spans())
    concluidas = fonte.total_do_contador("bookstore.ordens", {"bookstore.ordem.status": "concluida"})
    guardadas = [grupo for grupo in grupos.values()
                 if any(s["atributos"].get("bookstore.ordem.status") == "concluida" for s in grupo)]
    com_trace = len(guardadas)
    partidos = [grupo for grupo in guardadas if not completa(grupo)]
    return [
        Criterio(concluidas >= 20, f"as métricas contam as compras concluídas: {concluidas:.0f}",
                 "ponha carga (passo 2: make carga DURACAO=30s) e espere ~10 s pelas métricas"),
        Criterio(com_trace >= 1, f"há traces de compra concluída guardados: {com_trace}",
                 "com 20%, alguns traces ficam: compre mais"),
        Criterio(concluidas >= 20 and com_trace <= 0.6 * concluidas,
                 f"só uma parte das compras tem trace: {com_trace} de {concluidas:.0f}",
                 "troque o amostrador em otel.env (passo 1) e reinicie o laboratório"),
        Criterio(com_trace >= 1 and not partidos, "nenhum trace guardado ficou pela metade (ordens, livros e pagamentos)",
                 "use parentbased_traceidratio, não traceidratio: cada serviço segue a decisão de quem chamou"),
    ]
