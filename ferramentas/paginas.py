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
from urllib.parse import quote

from bookstore import config

CANDIDATOS_DO_CHROMIUM = ("chromium", "chromium-browser")
OPCOES_DO_CHROMIUM = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"]
JANELA = {"width": 1280, "height": 900}
PRAZO_SEGUNDOS = 20.0
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
