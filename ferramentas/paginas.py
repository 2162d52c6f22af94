"""O que o aluno vê no navegador, visto como ele vê: cada página do laboratório aberta num Chromium de
verdade, com o que ela precisa mostrar conferido no texto da página renderizada.

Quem usa: os testes (tests/test_navegador.py) e o `make capturas` (ferramentas/capturas.py, as imagens
de docs/capturas/ que o README mostra). Cada função abre uma página, espera o que o aluno procuraria
nela (os nomes dos spans, o resultado da consulta, as linhas de log) e devolve a página aberta; se o
que ela mostra é outra coisa — uma mensagem de erro, nada depois do prazo —, levanta `PaginaErrada`
com o endereço e o texto que a página mostrava.

O Chromium é o do Debian (`apt-get install chromium`) dirigido pelo Playwright do PyPI: o navegador
que o Playwright baixaria sozinho não vem de um registro de pacotes. As opções de linha de comando
desligam o que tenta falar com a internet ao abrir (atualizações, sincronização): numa máquina sem
rede, cada tentativa recusada custa tempo.
"""
import shutil
import time
from contextlib import contextmanager
from urllib.parse import parse_qs, quote, urlparse

from bookstore import config

CANDIDATOS_DO_CHROMIUM = ("chromium", "chromium-browser")
OPCOES_DO_CHROMIUM = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"]
JANELA = {"width": 1280, "height": 900}
PRAZO_SEGUNDOS = 20.0
# A aba dos painéis na vmui do VictoriaMetrics (os JSON de paineis/).
CAMINHO_DOS_PAINEIS = "/vmui/#/dashboards"
ATUALIZAR_GRAFICO_VAZIO_SEGUNDOS = 5.0
UNIDADES = {"m": "minutes", "h": "hours"}  # o nome do intervalo relativo na URL da vmui
# O que uma página mostra quando falhou em vez de mostrar dados: nenhuma destas frases pode aparecer.
FRASES_DE_ERRO = ("Error opening React index.html", "404 page not found", "Unexpected Application Error",
                  "Something went wrong", "Error executing query", "unexpected error", "Internal Server Error",
                  "parse error")


class PaginaErrada(AssertionError):
    pass


def caminho_do_chromium() -> str | None:
    """O Chromium do sistema: CHROMIUM, se definida; senão o do PATH."""
    if escolhido := config.ler("CHROMIUM"):
        return escolhido
    return next((achado for nome in CANDIDATOS_DO_CHROMIUM if (achado := shutil.which(nome))), None)


@contextmanager
def navegador():
    """Um Chromium sem janela, pronto para `nova_pagina(nav)`; fechado na saída."""
    from playwright.sync_api import sync_playwright  # só quem abre páginas precisa dele
    caminho = caminho_do_chromium()
    if caminho is None:
        raise FileNotFoundError("sem o Chromium: apt-get install chromium (ou aponte CHROMIUM=/caminho/do/chromium)")
    with sync_playwright() as playwright:
        nav = playwright.chromium.launch(executable_path=caminho, args=OPCOES_DO_CHROMIUM)
        try:
            yield nav
        finally:
            nav.close()


def nova_pagina(nav, altura: int | None = None):
    return nav.new_page(viewport={**JANELA, **({"height": altura} if altura else {})})


def _texto(pagina) -> str:
    try:
        return pagina.inner_text("body")
    except Exception:  # a página ainda trocando de documento
        return ""


def esperar_textos(pagina, textos: list[str], prazo: float = PRAZO_SEGUNDOS) -> str:
    """Espera até o texto visível da página ter cada um de `textos`; falha na hora se ela mostra um erro."""
    fim = time.monotonic() + prazo
    while True:
        visivel = _texto(pagina)
        erros = [frase for frase in FRASES_DE_ERRO if frase.lower() in visivel.lower()]
        if erros:
            raise PaginaErrada(f"{pagina.url} mostra um erro ({erros[0]!r}):\n{visivel[:1500]}")
        faltam = [texto for texto in textos if texto not in visivel]
        if not faltam:
            return visivel
        if time.monotonic() > fim:
            raise PaginaErrada(f"{pagina.url}: depois de {prazo:.0f} s a página não mostra {faltam}. Ela mostra:\n"
                               f"{visivel[:1500]}")
        pagina.wait_for_timeout(200)


# --- as páginas ---------------------------------------------------------------------------------

def cascata(nav, visualizador: str, trace_id: str, servicos: list[str], spans: list[str]):
    """A cascata de um trace no visualizador (otel-desktop-viewer): /traces/<id>. A árvore abre com os filhos
    recolhidos; como o aluno, a página clica em cada "expandir" até a árvore inteira aparecer."""
    pagina = nova_pagina(nav, altura=1600)  # alta: a lista é virtual, só as linhas à vista existem
    pagina.goto(f"{visualizador}/traces/{trace_id}")
    esperar_textos(pagina, [trace_id[:8]])
    pagina.locator(".waterfall-row").first.wait_for(timeout=PRAZO_SEGUNDOS * 1000)
    fim = time.monotonic() + PRAZO_SEGUNDOS
    while (botoes := pagina.locator('button[aria-label^="Expand"]')).count() and time.monotonic() < fim:
        antes = pagina.locator(".waterfall-row").count()
        botoes.first.click()
        while pagina.locator(".waterfall-row").count() == antes and time.monotonic() < fim:
            pagina.wait_for_timeout(50)
    linhas = pagina.locator(".waterfall-row")
    vistos_servicos = set(pagina.locator(".waterfall-row__td-service").all_inner_texts())
    vistos_spans = set(pagina.locator(".waterfall-row__title").all_inner_texts())
    faltam = [s for s in servicos if s not in vistos_servicos] + [s for s in spans if s not in vistos_spans]
    if faltam:
        raise PaginaErrada(f"{pagina.url}: a cascata ({linhas.count()} linhas) não mostra {faltam}; mostra os "
                           f"serviços {sorted(vistos_servicos)} e os spans {sorted(vistos_spans)[:30]}")
    esperar_textos(pagina, [])
    return pagina


def consulta_no_prometheus(nav, prometheus: str, expressao: str, esperado: list[str]):
    """A página de consulta do Prometheus com uma expressão PromQL (o link que o aluno guardaria), na aba
    Tabela: a consulta roda ao abrir e o resultado aparece em linhas."""
    pagina = nova_pagina(nav)
    pagina.goto(f"{prometheus}/query?g0.expr={quote(expressao)}&g0.tab=table")
    esperar_textos(pagina, ["Result series", *esperado])
    return pagina


def pagina_do_prometheus(nav, prometheus: str, caminho: str, esperado: list[str]):
    """Outra página da interface do Prometheus: /alerts, /targets."""
    pagina = nova_pagina(nav)
    pagina.goto(f"{prometheus}{caminho}")
    esperar_textos(pagina, esperado)
    return pagina


def logs_do_trace(nav, url_dos_logs: str, linhas: list[str]):
    """A interface do VictoriaLogs com a busca trace_id:<id> já preenchida (o link que o make traces dá)."""
    pagina = nova_pagina(nav)
    pagina.goto(url_dos_logs)
    esperar_textos(pagina, ["Total logs returned", *linhas])
    return pagina


def swagger(nav, servico: str, operacoes: list[str]):
    """O /docs de um serviço: a Swagger UI com as operações da API."""
    pagina = nova_pagina(nav)
    pagina.goto(f"{servico}/docs")
    esperar_textos(pagina, operacoes)
    return pagina


def _recusa(resposta) -> str:
    """"<consulta> → 400: <o erro que o VictoriaMetrics deu>" de uma resposta recusada da API."""
    parametros = parse_qs(urlparse(resposta.url).query) | parse_qs(resposta.request.post_data or "")
    try:
        erro = resposta.json().get("error", "")
    except Exception:  # corpo que não é JSON: o status basta
        erro = resposta.status_text
    return f"{parametros.get('query', ['?'])[0]} → {resposta.status}: {erro}"


# Uma linha de painel ainda fechada (a vmui abre só a primeira).
LINHA_FECHADA = ".vm-predefined-dashboard > .vm-accordion-header:not(.vm-accordion-header_open)"


def painel(nav, paineis: str, titulo: str, prazo: float = PRAZO_SEGUNDOS, ultimos: str | None = None):
    """Um painel da vmui (paineis/*.json) lido como o aluno o lê: a aba `titulo`, cada linha aberta e cada
    gráfico rolado até a vista — a vmui só consulta o gráfico que aparece na tela. Cada gráfico precisa
    mostrar ao menos uma série com valores (min/median/max/last na legenda) em até `prazo` segundos, e
    nenhuma consulta pode ter sido recusada: a vmui não escreve o erro no gráfico (ele só fica vazio),
    então a recusa é lida na resposta da API. `ultimos` ("5m"): o intervalo de tempo, em vez dos 30
    minutos com que a vmui abre. Devolve (a página, {título do gráfico: [séries da legenda]})."""
    pagina = nova_pagina(nav)
    respostas_recusadas = []  # lidas depois: dentro do evento, a API síncrona do Playwright não pode esperar
    pagina.on("response", lambda resposta: respostas_recusadas.append(resposta)
              if "/api/v1/query" in resposta.url and resposta.status >= 400 else None)
    intervalo = f"?g0.range_input={ultimos}&g0.relative_time=last_{ultimos[:-1]}_{UNIDADES[ultimos[-1]]}" if ultimos else ""
    pagina.goto(f"{paineis}{CAMINHO_DOS_PAINEIS}{intervalo}")
    _abrir_painel(pagina, titulo, prazo)
    graficos = {}
    for grafico in pagina.locator(".vm-predefined-panel").all():
        nome = grafico.locator(".vm-predefined-panel-header__title").inner_text()
        graficos[nome] = _series_do_grafico(pagina, grafico, prazo, respostas_recusadas)
    if recusadas := [_recusa(resposta) for resposta in respostas_recusadas]:
        raise PaginaErrada(f"{pagina.url}: o painel {titulo!r} tem consultas que o VictoriaMetrics recusou:\n"
                           + "\n".join(recusadas))
    if alertas := pagina.locator(".vm-alert_error").all_inner_texts():
        raise PaginaErrada(f"{pagina.url}: o painel {titulo!r} mostra um erro: {alertas}")
    esperar_textos(pagina, [])
    if vazios := [nome for nome, series in graficos.items() if not series]:
        raise PaginaErrada(f"{pagina.url}: no painel {titulo!r}, os gráficos {vazios} não mostram nenhuma série "
                           f"(depois de {prazo:.0f} s); os outros mostram {graficos}")
    pagina.locator(".vm-header").first.scroll_into_view_if_needed()  # de volta ao topo, como ao abrir
    return pagina, graficos


def _abrir_painel(pagina, titulo: str, prazo: float) -> None:
    """A aba do painel clicada e cada linha dele aberta pela seta (o clique no título nem sempre chega a ela)."""
    abas = pagina.locator(".vm-predefined-panels-tabs__tab")
    try:
        pagina.locator(".vm-predefined-panels-tabs__tab, .vm-predefined-dashboard").first.wait_for(
            timeout=prazo * 1000)
    except Exception:
        raise PaginaErrada(f"{pagina.url}: nenhum painel (a vmui achou os JSON?). A página mostra:\n"
                           f"{_texto(pagina)[:1500]}") from None
    if abas.count():  # com um painel só, a vmui não mostra abas: ele já está aberto
        aba = abas.filter(has_text=titulo)
        if not aba.count():
            raise PaginaErrada(f"{pagina.url}: não há o painel {titulo!r}; as abas são {abas.all_inner_texts()}")
        aba.first.click()
    fechadas = pagina.locator(LINHA_FECHADA)
    while antes := fechadas.count():
        fechadas.first.locator(".vm-accordion-header__arrow").click()
        pagina.wait_for_function(f"document.querySelectorAll({LINHA_FECHADA!r}).length < {antes}")


def _series_do_grafico(pagina, grafico, prazo: float, respostas_recusadas: list) -> list[str]:
    """As séries com valores na legenda do gráfico, depois de rolá-lo até a vista; [] se nada chegou no
    prazo (ou se uma consulta já foi recusada: não adianta esperar)."""
    grafico.scroll_into_view_if_needed()
    fim = time.monotonic() + prazo  # por gráfico: um vazio não tira o tempo do seguinte
    atualizar_em = time.monotonic() + ATUALIZAR_GRAFICO_VAZIO_SEGUNDOS
    while True:
        series = [item.locator(".vm-legend-item-info__label").inner_text()
                  for item in grafico.locator(".vm-legend-item").all() if item.locator(".vm-legend-item-stats").count()]
        if series or respostas_recusadas or grafico.locator(".vm-alert").count() or time.monotonic() > fim:
            return series
        if time.monotonic() > atualizar_em:
            # A vmui consulta cada gráfico uma vez; se essa consulta foi cancelada (o intervalo de tempo
            # acerta-se logo depois de a página abrir), o gráfico fica vazio até alguém clicar em
            # atualizar — o que o aluno faria.
            pagina.locator(".vm-execution-controls-buttons button").first.click()
            atualizar_em = time.monotonic() + ATUALIZAR_GRAFICO_VAZIO_SEGUNDOS
        pagina.wait_for_timeout(200)
