"""Autoteste do exercício 21: a fila de pagamentos encheu (o consumidor lento), as mensagens esperaram
segundos nela, e depois que a lentidão saiu a fila esvaziou."""
from autoteste.consultas import compras, falha_desligada, processamentos, tem_metrica
from autoteste.exercicios import Criterio
from bookstore import config

TIPO = "mensagens"
# Este exercício liga uma falha: ela não é estado de um exercício anterior (autoteste/estado.py).
LIGA_FALHAS = True
COBRAR = "pagamentos.cobrar"
FILA = "pagamentos.comandos"
ESPEROU_MS = 1000  # uma fila que encheu
ESVAZIOU_MS = 500  # e que voltou a andar


def conferir(fonte, resposta: str) -> list[Criterio]:
    cobrancas = sorted((s for grupo in compras(fonte.spans()).values() for s in processamentos(grupo, COBRAR)),
                       key=lambda s: s["inicio_ns"])
    espera = [s["atributos"].get("bookstore.mensagem.espera_ms", 0) for s in cobrancas]
    pior = max(range(len(espera)), key=espera.__getitem__, default=None)
    depois = cobrancas[pior + 1:] if pior is not None else []
    chegou = tem_metrica(fonte.nomes_de_metricas(), "bookstore.fila.profundidade")
    profundidade = fonte.maximo_do_medidor("bookstore.fila.profundidade",
                                           {"messaging.destination.name": FILA}) if chegou else 0.0
    return [
        Criterio(profundidade > 0, f"a fila {FILA} encheu: profundidade máxima {profundidade:.0f} (bookstore.fila.profundidade)"
                 if profundidade > 0 else f"a fila {FILA} encheu (bookstore.fila.profundidade acima de 0)",
                 "a profundidade é lida a cada exportação (10 s): com o consumidor lento (passo 1), a rajada do passo 2 "
                 "fica na fila ~16 s — espere uma exportação antes de tirar a lentidão" if chegou else
                 "suba com ORDENS_SAGA=mensagens make local e espere uma exportação de métricas"),
        Criterio(pior is not None and espera[pior] >= ESPEROU_MS,
                 f"uma cobrança esperou >= {ESPEROU_MS} ms na fila: {max(espera, default=0):.0f} ms",
                 "deixe o consumidor de pagamentos lento (passo 1) e compre várias vezes seguidas (passo 2); com "
                 "MENSAGENS_SO_LINKS=true (o 20) as cobranças ficam fora do trace da compra: suba sem ele"),
        Criterio(bool(depois) and depois[-1]["atributos"].get("bookstore.mensagem.espera_ms", 0) < ESVAZIOU_MS,
                 f"depois, a fila esvaziou: a última cobrança esperou < {ESVAZIOU_MS} ms",
                 "tire a lentidão (passo 4), espere a fila zerar e compre mais uma vez"),
        Criterio(falha_desligada("pagamentos") is True, "a lentidão de pagamentos está desligada",
                 f"curl -s -X PUT {config.url('pagamentos')}/admin/falhas -d "
                 "'{\"latencia_ms\":0,\"taxa_erro\":0}'"),
    ]
