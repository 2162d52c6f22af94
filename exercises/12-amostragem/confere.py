"""Autoteste do exercício 12: menos traces que compras, nenhum pedaço de trace sem a raiz mesmo com
livros amostrando outra fração, métricas com todas — e o amostrador que segue quem chamou.

O que o laboratório mostra (medido): com `traceidratio` em todos e a MESMA razão, nenhum trace se
parte — a decisão vem do trace_id, e todos calculam a mesma. O que parte é cada serviço com a sua
razão (AMBIENTE_LIVROS=OTEL_TRACES_SAMPLER_ARG=0.6): livros grava pedaços cujo pai, em ordens, não
foi gravado. Com `parentbased_`, livros segue o `-01`/`-00` do traceparent e a razão dele não
importa para o que ordens começou. Por isso o último critério lê o amostrador em vigor."""
from autoteste.consultas import completa, compras, otel_em_vigor, pedacos_sem_raiz
from autoteste.exercicios import Criterio

TIPO = "configurar"


def conferir(fonte, resposta: str) -> list[Criterio]:
    spans = fonte.spans()
    grupos = compras(spans)
    concluidas = fonte.total_do_contador("bookstore.ordens", {"bookstore.ordem.status": "concluida"})
    guardadas = [grupo for grupo in grupos.values()
                 if any(s["atributos"].get("bookstore.ordem.status") == "concluida" for s in grupo)]
    com_trace = len(guardadas)
    pela_metade = [grupo for grupo in guardadas if not completa(grupo)]
    pedacos = pedacos_sem_raiz(spans)
    amostrador = otel_em_vigor("OTEL_TRACES_SAMPLER") or "(nenhum)"
    return [
        Criterio(concluidas >= 20, f"as métricas contam as compras concluídas: {concluidas:.0f}",
                 "ponha carga (make carga DURACAO=10s) depois de reiniciar"),
        Criterio(com_trace >= 1, f"há traces de compra concluída guardados: {com_trace}",
                 "com 20%, alguns traces ficam: compre mais"),
        Criterio(concluidas >= 20 and com_trace <= 0.6 * concluidas,
                 f"só uma parte das compras tem trace: {com_trace} de {concluidas:.0f}",
                 "troque o amostrador em otel.env (passo 1) e reinicie o laboratório"),
        Criterio(not pedacos and not pela_metade,
                 f"nenhum pedaço de trace sem a raiz (livros ou pagamentos sem o span de ordens que os chamou): "
                 f"{len(pedacos) + len(pela_metade)}",
                 "cada serviço sorteou sozinho (traceidratio), com razões diferentes: use parentbased_traceidratio "
                 "(passo 3), reinicie e ponha carga de novo"),
        Criterio(amostrador.startswith("parentbased_"),
                 f"o amostrador segue a decisão de quem chamou (OTEL_TRACES_SAMPLER={amostrador})",
                 "com traceidratio e a mesma razão em todos, nada se parte (o sorteio é pelo trace_id), mas basta "
                 "uma equipe mudar a sua (passo 1) para partir: use parentbased_traceidratio em otel.env"),
    ]
