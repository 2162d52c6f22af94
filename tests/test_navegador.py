"""O que o aluno vê no navegador, num Chromium de verdade, com a pilha real do `make local`.

Um `make local` com a pilha real (PILHA=real, portas livres) e uma compra como a do README; cada teste abre
uma página como o aluno a abre e confere o que ela mostra (ferramentas/paginas.py, as mesmas funções do
`make capturas`): a cascata do trace com os três serviços e os passos da saga, uma consulta PromQL de uma
métrica `bookstore_*` na interface do Prometheus, as linhas de log da compra pelo trace_id na interface do
VictoriaLogs, o /docs de cada serviço. Uma página que mostra um erro falha o teste (provado abaixo com uma
consulta errada).

Sem o Chromium ou sem os binários da pilha, o arquivo é pulado com uma linha dizendo o que falta — exceto
com CI=true, onde falta é falha (o `make test` do CI instala o Chromium e constrói a pilha).
"""
import os
import subprocess
import sys

import pytest
import requests

from ferramentas import capturas, paginas
from modo_local import pilha_real
from telemetria_local.fontes import url_dos_logs
from tests.apoio import esperar, explicar
from tests.lancador import ModoLocal

pytestmark = pytest.mark.e2e


def faltando(o_que: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{o_que} (CI=true: falta é falha, não pulo)")
    pytest.skip(o_que)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if faltam := pilha_real.faltando():
        faltando(f"falta {', '.join(faltam)} em .ferramentas/bin/: {pilha_real.COMO_CONSTRUIR}")
    if not pilha_real.interface_do_prometheus():
        faltando(f"a interface do Prometheus: {pilha_real.SEM_A_INTERFACE_DO_PROMETHEUS}")
    if paginas.caminho_do_chromium() is None:
        faltando("sem o Chromium: apt-get install chromium (scripts/preparar-navegador.sh), ou CHROMIUM=/caminho")
    with ModoLocal(tmp_path_factory.mktemp("navegador") / "telemetria", PILHA="real") as laboratorio:
        yield laboratorio


@pytest.fixture(scope="module")
def nav(lab):
    with paginas.navegador() as navegador:
        yield navegador


@pytest.fixture(scope="module")
def compra(lab):
    """A compra do README (um curl): o número da ordem e o trace dela, achado no Jaeger."""
    ordem = capturas.comprar(lab.url("ordens"))
    return ordem, capturas.trace_da_ordem(lab.url("jaeger"), ordem)


def test_o_resumo_do_make_local_lista_cada_pagina_do_navegador(lab):
    saida = lab.saida()
    for nome, caminho in (("prometheus", "/query"), ("visualizador", "/traces"), ("victorialogs", "/select/vmui/")):
        assert f"{lab.url(nome)}{caminho}" in saida, (nome, saida[-3000:])
    assert "interface do Jaeger só existe no Docker" in saida


def test_a_cascata_da_compra_mostra_os_tres_servicos_e_os_passos_da_saga(nav, lab, compra):
    _, trace_id = compra
    pagina = paginas.cascata(nav, lab.url("visualizador"), trace_id, capturas.SERVICOS, capturas.SPANS_DA_COMPRA)
    assert pagina.url.startswith(f"{lab.url('visualizador')}/traces/{trace_id}")


def test_uma_consulta_promql_de_bookstore_da_resultado_na_interface_do_prometheus(nav, lab, compra):
    capturas.esperar_a_metrica(lab.url("prometheus"))
    paginas.consulta_no_prometheus(nav, lab.url("prometheus"), capturas.CONSULTA, ["concluida"])


def test_alertas_e_alvos_abrem_na_interface_do_prometheus(nav, lab):
    # A página de alvos lê a lista uma vez, ao abrir: aberta antes de o Prometheus distribuir os alvos
    # e coletar cada um pela primeira vez (até um scrape_interval depois de subir), fica em "No scrape pools
    # found" ou sem o UP até o aluno recarregá-la.
    esperar(lambda: any(alvo["health"] == "up" for alvo in requests.get(
        lab.url("prometheus") + "/api/v1/targets", timeout=5).json()["data"]["activeTargets"]),
            30, intervalo=0.5, descricao="o primeiro alvo coletado (UP) no Prometheus")
    paginas.pagina_do_prometheus(nav, lab.url("prometheus"), "/targets", ["otel-collector", "UP"])
    # A página de alertas lista os grupos e os alertas de prometheus/alertas.yml: o make local achou as regras.
    paginas.pagina_do_prometheus(nav, lab.url("prometheus"), "/alerts",
                                 ["red-por-servico", "slo-da-compra", "filas", "ServicoComErros", "SLODaCompraQueimaRapida",
                                  "FilaCrescendo"])


def test_uma_pagina_que_mostra_erro_falha_o_teste(nav, lab):
    """A conferência pode falhar: uma consulta que o Prometheus recusa mostra o erro na página."""
    with pytest.raises(paginas.PaginaErrada, match="mostra um erro"):
        paginas.consulta_no_prometheus(nav, lab.url("prometheus"), "sum(bookstore_ordens_total", ["concluida"])


def test_os_logs_da_compra_aparecem_pelo_trace_id_na_interface_do_victorialogs(nav, lab, compra):
    ordem, trace_id = compra
    paginas.logs_do_trace(nav, url_dos_logs(lab.url("victorialogs"), trace_id),
                          [f"ordem {ordem} → criada", f"ordem {ordem} → concluida"])


def test_make_traces_trace_da_as_paginas_do_trace_e_elas_abrem(nav, lab, compra):
    """O aluno copia o endereço que o `make traces TRACE=<id>` imprime: cada um abre o que promete."""
    ordem, trace_id = compra
    resultado = subprocess.run([sys.executable, "-m", "telemetria_local", trace_id], capture_output=True, text=True,
                               env=lab.ambiente, timeout=60)
    assert resultado.returncode == 0, explicar(resultado)
    linhas = resultado.stdout.splitlines()
    cascata = next(linha for linha in linhas if "a cascata:" in linha).split()[-1]
    logs = next(linha for linha in linhas if "os logs:" in linha).split()[-1]
    assert cascata == f"{lab.url('visualizador')}/traces/{trace_id}"
    pagina = paginas.nova_pagina(nav)
    pagina.goto(cascata)
    paginas.esperar_textos(pagina, [trace_id, "POST /ordens"])
    paginas.logs_do_trace(nav, logs, [f"ordem {ordem} → concluida"])


@pytest.mark.parametrize("servico, operacao", [("livros", "/reservas"), ("ordens", "/ordens"),
                                               ("pagamentos", "/pagamentos")])
def test_o_docs_de_cada_servico_mostra_a_api(nav, lab, servico, operacao):
    paginas.swagger(nav, lab.url(servico), [operacao])


def test_a_pagina_provisoria_do_jaeger_nao_e_para_onde_o_make_local_manda(lab):
    """O Jaeger daqui não tem interface: o resumo aponta a API dele, nunca a raiz."""
    raiz = requests.get(lab.url("jaeger") + "/", timeout=5).text
    assert "not the Jaeger UI" in raiz  # o que o aluno veria lá
    assert f"{lab.url('jaeger')}/api/v3/services" in lab.saida()
    assert f"Jaeger      {lab.url('jaeger')}\n" not in lab.saida()
