"""Os painéis (paineis/*.json) como a turma os lê: num Chromium de verdade, na vmui do VictoriaMetrics que o
`make local` sobe com a pilha real, alimentada pelo remote_write do Prometheus.

Um `make local` com ORDENS_SAGA=mensagens (o único transporte em que o painel das filas tem dados; os
outros três têm em qualquer um) e compras espaçadas, com cartão recusado e falta de estoque. Depois que
cada consulta dos painéis tem série na API, cada painel é aberto como o aluno o abre (ferramentas/paginas.py,
a mesma função do `make capturas`): cada gráfico precisa mostrar ao menos uma série, e nenhuma consulta
pode ter sido recusada. Que a conferência falha com uma consulta errada é provado abaixo, num segundo
VictoriaMetrics com os mesmos dados e um painel com dois erros.

Sem o Chromium ou sem os binários da pilha, o arquivo é pulado com uma linha dizendo o que falta — exceto
com CI=true, onde falta é falha.
"""
import json

import pytest
import requests

from bookstore import mensagens, topologia
from ferramentas import capturas, paginas
from modo_local import pilha_real
from supervisao.filho import Filho
from supervisao.portas import porta_livre
from tests.apoio import esperar
from tests.lancador import ModoLocal
from tests.test_navegador import faltando

TITULOS = [painel["title"] for painel in capturas.paineis()]
# Cada gráfico e as séries que a carga abaixo precisa fazer aparecer nele (o resto pode variar).
SERIES_ESPERADAS = {
    ("RED por serviço", "Pedidos e mensagens por segundo"): set(topologia.SERVICOS),
    ("Funil da compra", "Ordens por status final"): {"concluida", "pagamento_recusado"},
    ("Filas (ORDENS_SAGA=mensagens)", "Profundidade de cada fila"): set(mensagens.filas_do_laboratorio()),
}


def _responde(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.ConnectionError:
        return False


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if faltam := pilha_real.faltando():
        faltando(f"falta {', '.join(faltam)} em .ferramentas/bin/: {pilha_real.COMO_CONSTRUIR}")
    if paginas.caminho_do_chromium() is None:
        faltando("sem o Chromium: apt-get install chromium (scripts/preparar-navegador.sh), ou CHROMIUM=/caminho")
    with ModoLocal(tmp_path_factory.mktemp("paineis") / "telemetria", PILHA="real",
                   ORDENS_SAGA="mensagens") as laboratorio:
        ordens = laboratorio.url("ordens")
        capturas.movimentar(ordens, compras=8, intervalo_segundos=1.5)
        falta = requests.post(f"{ordens}/ordens", timeout=20,
                              json={"itens": [{"livro_id": 1, "quantidade": 999}], "cliente": "Ana"})
        assert falta.status_code == 202, falta.text
        capturas.esperar_os_paineis(laboratorio.url("paineis"), TITULOS)
        yield laboratorio


@pytest.fixture(scope="module")
def nav(lab):
    with paginas.navegador() as navegador:
        yield navegador


def test_cada_grafico_diz_o_que_procurar_e_consulta_so_promql_do_laboratorio():
    """Sem laboratório: a forma dos JSON (a vmui ignora um campo escrito errado sem avisar) e cada gráfico
    com a frase para o aluno. Que as consultas são PromQL, o Prometheus de verdade confere abaixo."""
    assert len(TITULOS) == len(set(TITULOS)) >= 4
    for painel in capturas.paineis():
        assert set(painel) == {"title", "rows"}, painel["title"]
        for linha in painel["rows"]:
            assert set(linha) == {"title", "panels"} and linha["panels"], linha
            for grafico in linha["panels"]:
                assert set(grafico) <= {"title", "description", "expr", "alias", "unit", "width", "showLegend"}, grafico
                assert grafico["description"].startswith("O que procurar: "), grafico["title"]
                assert grafico["expr"] and len(grafico.get("alias", grafico["expr"])) == len(grafico["expr"]), grafico
                assert 1 <= grafico.get("width", 12) <= 12, grafico


@pytest.mark.e2e
def test_cada_consulta_dos_paineis_roda_igual_no_prometheus(lab):
    """PromQL puro: o aluno copia a consulta do ⓘ de um gráfico para a interface do Prometheus e ela roda
    (o VictoriaMetrics aceitaria também MetricsQL, que o Prometheus recusa)."""
    for painel in capturas.paineis():
        for linha in painel["rows"]:
            for grafico in linha["panels"]:
                for expr in grafico["expr"]:
                    resposta = requests.get(f"{lab.url('prometheus')}/api/v1/query", params={"query": expr}, timeout=10)
                    assert resposta.json()["status"] == "success", (grafico["title"], expr, resposta.text)


@pytest.mark.e2e
def test_o_resumo_do_make_local_tem_a_linha_dos_paineis(lab):
    """A linha que o aluno copia, e o VictoriaMetrics escutando só em 127.0.0.1 (como o resto do make local)."""
    assert pilha_real.opcoes_dos_paineis(lab.pasta_telemetria, 1)[-1] == "-httpListenAddr=127.0.0.1:1"
    assert f"  Painéis       {lab.url('paineis')}{paginas.CAMINHO_DOS_PAINEIS}" in lab.saida(), lab.saida()[-3000:]


@pytest.mark.e2e
@pytest.mark.parametrize("titulo", TITULOS)
def test_cada_grafico_do_painel_mostra_dados_no_navegador(nav, lab, titulo):
    _, graficos = paginas.painel(nav, lab.url("paineis"), titulo)
    esperados = [grafico["title"] for painel in capturas.paineis() if painel["title"] == titulo
                 for linha in painel["rows"] for grafico in linha["panels"]]
    assert sorted(graficos) == sorted(esperados), graficos
    for (painel, grafico), series in SERIES_ESPERADAS.items():
        if painel == titulo:
            assert series <= set(graficos[grafico]), (grafico, graficos[grafico])


@pytest.mark.e2e
def test_um_painel_com_consulta_errada_falha_a_conferencia(nav, lab, tmp_path):
    """Um VictoriaMetrics à parte com os mesmos dados (exportados do dos painéis) e um painel com um
    gráfico certo, um com a métrica escrita errado e um com PromQL que não fecha o parêntese."""
    pasta = tmp_path / "paineis"
    pasta.mkdir()
    certo = 'sum by (service_name) (rate(traces_span_metrics_calls_total[1m]))'
    (pasta / "errado.json").write_text(json.dumps({"title": "Errado", "rows": [{"panels": [
        {"title": "Certo", "expr": [certo], "alias": ["{{service_name}}"]},
        {"title": "Métrica que não existe", "expr": ['sum(rate(traces_span_metric_calls_total[1m]))']},
        {"title": "Parêntese aberto", "expr": [certo[:-1]]},
    ]}]}), encoding="utf-8")
    porta = porta_livre()
    outro = Filho([pilha_real.BIN / "victoria-metrics", f"-storageDataPath={tmp_path / 'dados'}",
                   f"-httpListenAddr=127.0.0.1:{porta}", f"-vmui.customDashboardsPath={pasta}",
                   "-search.latencyOffset=5s"],  # como o dos painéis (docker-compose.yml)
                  log=tmp_path / "vm.log")
    with outro:
        url = f"http://127.0.0.1:{porta}"
        esperar(lambda: _responde(f"{url}/health"), 15, descricao="o segundo VictoriaMetrics no ar")
        exportado = requests.get(f"{lab.url('paineis')}/api/v1/export", timeout=30,
                                 params={"match[]": '{__name__="traces_span_metrics_calls_total"}'})
        requests.post(f"{url}/api/v1/import", data=exportado.content, timeout=30).raise_for_status()
        esperar(lambda: requests.get(f"{url}/api/v1/series", timeout=5, params={
            "match[]": "traces_span_metrics_calls_total"}).json()["data"], 30, descricao="os dados importados")
        with pytest.raises(paginas.PaginaErrada, match="recusou") as recusa:
            paginas.painel(nav, url, "Errado", prazo=8)
        assert certo[:-1] in str(recusa.value)
        (pasta / "errado.json").write_text(json.dumps({"title": "Errado", "rows": [{"panels": [
            {"title": "Certo", "expr": [certo]},
            {"title": "Métrica que não existe", "expr": ['sum(rate(traces_span_metric_calls_total[1m]))']},
        ]}]}), encoding="utf-8")
        with pytest.raises(paginas.PaginaErrada, match=r"os gráficos \['Métrica que não existe'\] não mostram"):
            paginas.painel(nav, url, "Errado", prazo=5)
