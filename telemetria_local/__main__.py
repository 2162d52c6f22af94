"""`python -m telemetria_local` (ou `make traces`): os traces que o `make local` guardou.

De onde: do Jaeger quando um Collector responde (o compose, ou o `make local` com a pilha real —
o mesmo critério do autoteste, telemetria_local/fontes.py); senão, do armazém do receptor local.

    python -m telemetria_local            os últimos 10 traces, um por linha
    python -m telemetria_local -n 30      os últimos 30
    python -m telemetria_local 4bf92f     a árvore do trace cujo id começa com 4bf92f
    python -m telemetria_local --metricas as métricas que chegaram, e de quais serviços
"""
import argparse
import sys
from pathlib import Path

import requests

from bookstore import config

from . import armazem, em_voo, fontes, traces
from .fontes import FonteDocker, collector_no_ar, paginas_do_trace


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m telemetria_local",
                                     description="Mostra os traces guardados pelo make local.")
    parser.add_argument("trace", nargs="?", help="id do trace (ou o começo dele) para ver em árvore")
    parser.add_argument("-n", type=int, default=10, help="quantos traces listar (padrão: 10)")
    parser.add_argument("--pasta", type=Path, default=armazem.pasta_padrao(),
                        help="onde está o armazém (padrão: .telemetria/ ou TELEMETRIA_LOCAL_PASTA)")
    parser.add_argument("--metricas", action="store_true", help="lista as métricas em vez dos traces")
    args = parser.parse_args(argv)
    if args.metricas:
        return listar_metricas(args.pasta)

    ilegiveis: list[str] = []
    try:
        return _traces(args, ilegiveis)
    finally:
        avisar_ilegiveis(ilegiveis)


def avisar_ilegiveis(ilegiveis: list[str]) -> None:
    """Uma linha só, no fim: o que não deu para ler foi pulado, e o primeiro motivo."""
    if ilegiveis:
        plural = "item ilegível ignorado" if len(ilegiveis) == 1 else "itens ilegíveis ignorados"
        print(f"{len(ilegiveis)} {plural} (o primeiro: {ilegiveis[0]})", file=sys.stderr)


def _linha_ou_nada(grupo: list[dict], ilegiveis: list[str]) -> str | None:
    try:
        return traces.linha(grupo, id_completo=True)
    except Exception as erro:  # um trace estranho não pode esconder os outros
        ilegiveis.append(f"trace {grupo[0]['trace_id']}: {type(erro).__name__}: {erro}")
        return None


def _spans(args, ilegiveis: list[str]) -> tuple[list[dict], str]:
    """Os spans e de onde vieram: o Jaeger da pilha (se o Collector responde) ou o armazém local."""
    # Logo depois do curl, o trace ainda está a caminho (lotes de 1 s): a espera vai para o stderr,
    # para a lista no stdout continuar só a lista.
    if collector_no_ar():
        fonte = FonteDocker()
        em_voo.Espera(saida=sys.stderr, docker=True).traces(fonte.spans)
        return fonte.spans(), f"o Jaeger ({fonte.jaeger}, últimos 30 min)"
    em_voo.Espera(saida=sys.stderr).traces(lambda: armazem.itens("traces", args.pasta))
    return armazem.itens("traces", args.pasta, ilegiveis), str(armazem.arquivo(args.pasta, "traces"))


def _traces(args, ilegiveis: list[str]) -> int:
    spans, origem = _spans(args, ilegiveis)
    guardados = traces.guardados(spans)
    if not guardados:
        print(f"Nenhum trace em {origem}.\n"
              "O `make local` está no ar? Faça uma compra e tente de novo:\n"
              f"  curl -s -X POST {config.url('ordens')}/ordens -H 'Content-Type: application/json' "
              "-d '{\"itens\": [{\"livro_id\": 1, \"quantidade\": 1}]}'", file=sys.stderr)
        return 1
    if args.trace is None:
        for grupo in guardados[-args.n:]:
            if (texto := _linha_ou_nada(grupo, ilegiveis)) is not None:
                print(texto)
        no_navegador = (f" (no navegador: {config.url('visualizador')}/traces/<id>)"
                        if fontes.responde(config.url("visualizador") + "/") else "")
        print(f"\n{len(guardados)} traces guardados. Para ver um: make traces TRACE=<id>{no_navegador}")
        return 0

    prefixo = args.trace.lower().rstrip("…")
    achados = [grupo for grupo in guardados if grupo[0]["trace_id"].startswith(prefixo)]
    if not achados:
        print(f"trace {prefixo!r} não encontrado entre os {len(guardados)} traces guardados em "
              f"{armazem.arquivo(args.pasta, 'traces')}. Confira o id (`make traces` lista os últimos); "
              "um trace de antes do último `make local` foi apagado com ele.", file=sys.stderr)
        return 1
    if len(achados) > 1:
        print(f"{len(achados)} traces começam com {prefixo!r}; use mais caracteres do id.", file=sys.stderr)
        return 1
    try:
        print(traces.arvore(achados[0]))
    except Exception as erro:
        ilegiveis.append(f"trace {achados[0][0]['trace_id']}: {type(erro).__name__}: {erro}")
        return 1
    if paginas := paginas_do_trace(achados[0][0]["trace_id"]):
        print("\nNo navegador:\n  " + "\n  ".join(paginas))
    return 0


TIPOS_DE_METRICA = {"sum": "contador", "gauge": "medidor", "histogram": "histograma",
                    "exponential_histogram": "histograma exp.", "summary": "resumo"}


def listar_metricas(pasta: Path) -> int:
    """`make metricas`: nome, tipo, unidade e os serviços que mandam cada métrica — do Prometheus quando a
    pilha real (ou o compose) está no ar, senão do que o receptor local guardou."""
    if collector_no_ar():
        return listar_metricas_do_prometheus(FonteDocker())
    por_nome: dict[tuple, set] = {}
    ilegiveis: list[str] = []
    for metrica in armazem.itens("metrics", pasta, ilegiveis):
        tipo = TIPOS_DE_METRICA.get(metrica["tipo"], metrica["tipo"])
        if metrica["tipo"] == "sum" and not metrica["monotonica"]:
            tipo = "contador ±"  # UpDownCounter: sobe e desce
        chave = (metrica["nome"], tipo, metrica["unidade"])
        por_nome.setdefault(chave, set()).add(metrica["recurso"].get("service.name"))
    avisar_ilegiveis(ilegiveis)
    if not por_nome:
        print(f"Nenhuma métrica em {armazem.arquivo(pasta, 'metrics')} (saem a cada 10 s; espere e tente de novo).",
              file=sys.stderr)
        return 1
    imprimir_metricas([(nome, tipo, unidade, servicos) for (nome, tipo, unidade), servicos in por_nome.items()])
    return 0


def listar_metricas_do_prometheus(fonte: FonteDocker) -> int:
    try:
        metricas = fonte.metricas()
    except (requests.RequestException, ValueError) as erro:
        print(f"O Prometheus ({fonte.prometheus}) não respondeu: {type(erro).__name__}. O make local está no ar?",
              file=sys.stderr)
        return 1
    if not metricas:
        print(f"Nenhuma métrica no Prometheus ({fonte.prometheus}) ainda: os serviços exportam a cada 10 s e ele lê "
              "o Collector a cada 10 s. Faça uma compra, espere ~20 s e tente de novo.", file=sys.stderr)
        return 1
    imprimir_metricas(metricas)
    print(f"\n{len(metricas)} métricas no Prometheus. Para consultar uma no navegador: {fonte.prometheus}/query")
    return 0


def imprimir_metricas(metricas: list[tuple[str, str, str, set]]) -> None:
    largura = max(36, *(len(nome) + 1 for nome, *_ in metricas))
    print(f"{'métrica':<{largura}} {'tipo':<16} {'unidade':<12} serviços")
    for nome, tipo, unidade, servicos in sorted(metricas):
        print(f"{nome:<{largura}} {tipo:<16} {unidade:<12} {', '.join(sorted(map(str, servicos)))}")


if __name__ == "__main__":
    sys.exit(main())
