"""Autoteste do exercício 13: o que o Collector entrega ao Jaeger já vem sem o final do cartão
e sem os spans de /admin/falhas. Lê o Jaeger: no Docker ou no make local com a pilha real
(com o receptor local não há Collector no caminho).

Julga a config que o Collector aceitou (no make local, o lançador a guarda com a hora da troca:
modo_local/pilha_real.py, CONFIG_ACEITA) e só a telemetria que chegou DEPOIS da troca: os spans de
/admin/falhas dos curls de antes não contam, e uma compra de antes também não."""
import time

import yaml

from autoteste.consultas import compras, config_do_collector_em_vigor, mais_recente
from autoteste.exercicios import Criterio
from telemetria_local.fontes import FonteLocal

TIPO = "collector"
PROCESSADORES = ("attributes/dados_pessoais", "filter/admin")
# No Docker não há registro da troca: só os spans dos últimos 2 minutos (reinicie e faça o passo 3).
JANELA_SEM_REGISTRO_NS = 2 * 60 * 10**9


def fora_do_pipeline(config: dict) -> list[str]:
    """Os processadores do exercício que a config declara mas não põe no pipeline traces (o Collector
    aceita, e ignora), e os que ela nem declara."""
    declarados = set(config.get("processors") or {})
    no_pipeline = set(((config.get("service") or {}).get("pipelines") or {}).get("traces", {}).get("processors") or [])
    return [f"{nome} {'declarado, mas fora de service.pipelines.traces.processors: o Collector o ignora' if nome in declarados else 'não está declarado em processors'}"
            for nome in PROCESSADORES if nome not in no_pipeline]


def conferir(fonte, resposta: str) -> list[Criterio]:
    if isinstance(fonte, FonteLocal):
        return [Criterio(False, "este exercício lê o Jaeger: precisa do Collector no caminho",
                         "`make ferramentas` (uma vez) e reinicie o `make local`: ele sobe o Collector, o Jaeger e "
                         "o Prometheus de verdade; ou use o Docker (docker compose up -d)")]
    aceita_em, texto, de_onde = config_do_collector_em_vigor()
    faltam = fora_do_pipeline(yaml.safe_load(texto) or {})
    desde_ns = int(aceita_em * 10**9) if aceita_em else time.time_ns() - JANELA_SEM_REGISTRO_NS
    depois = "depois da última troca de config" if aceita_em else "nos últimos 2 minutos"
    spans = [s for s in fonte.spans() if s["inicio_ns"] >= desde_ns]
    recente = mais_recente(compras(spans))
    decisoes = [s for s in recente if s["nome"] == "pagamentos.decidir"]
    admin = [s for s in spans if s["atributos"].get("http.route") == "/admin/falhas"]
    return [
        Criterio(not faltam, f"os dois processadores no pipeline traces da config em vigor ({de_onde})",
                 "; ".join(faltam) + " (passos 1 e 2)" if faltam else ""),
        Criterio(bool(decisoes), f"há uma compra {depois} no Jaeger",
                 "compre um livro depois de o Collector reiniciar com a config nova (passo 3)"),
        Criterio(bool(decisoes) and all("bookstore.cartao.final" not in s["atributos"] for s in decisoes),
                 f"a compra {depois} chegou sem bookstore.cartao.final",
                 "processador attributes/dados_pessoais com delete, no pipeline traces"),
        Criterio(not admin, f"nenhum span de /admin/falhas {depois}",
                 "processador filter/admin no pipeline traces, e a condição casando http.route com /admin/falhas"),
    ]
