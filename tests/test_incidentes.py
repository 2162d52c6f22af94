"""Os game days (incidentes/): cada incidente do catálogo começado, achado pela telemetria, avaliado e
encerrado, num make local com a pilha real — e o alerta que ele dispara, com o tempo até disparar.

O caminho de ponta a ponta leva minutos (cada alerta espera a janela dele): roda no `make curso`, com o
curso em ordem de aula (marca turma). A forma do catálogo e das respostas roda na suíte rápida.
"""
import datetime
import subprocess
import time
from pathlib import Path

import pytest
import requests

from autoteste.consultas import compras, completa
from bookstore import topologia
from incidentes import avaliacao
from incidentes.__main__ import escolher
from incidentes.catalogo import CATALOGO, CAUSAS, POR_NOME, SERVICOS
from modo_local import pilha_real
from telemetria_local.fontes import FonteDocker, FonteLocal
from tests.apoio import explicar
from tests.lancador import ModoLocal

RAIZ = Path(__file__).resolve().parent.parent

# O alerta mais lento do catálogo: a janela de 1 min enche, mais os 30 s do `for`, mais coleta e avaliação (10 s cada).
PRAZO_DO_ALERTA_SEGUNDOS = 150


def test_o_catalogo_lista_um_por_linha_com_o_vocabulario():
    saida = subprocess.run(["make", "-s", "incidentes"], cwd=RAIZ, capture_output=True, text=True, timeout=30)
    assert saida.returncode == 0, explicar(saida)
    linhas = [linha for linha in saida.stdout.splitlines() if linha.startswith("- ")]
    assert linhas == [f"- {i.nome}: {i.descricao}" for i in CATALOGO] and len(CATALOGO) >= 5
    assert all(causa in saida.stdout for causa in CAUSAS) and all(servico in saida.stdout for servico in SERVICOS)
    for incidente in CATALOGO:
        assert incidente.servico in SERVICOS and incidente.causa in CAUSAS
        # A dica de onde olhar nunca diz a resposta.
        assert incidente.servico not in incidente.onde_olhar and incidente.causa not in incidente.onde_olhar


def test_a_mesma_semente_da_o_mesmo_incidente_a_turma_inteira():
    assert {escolher("42", "").nome for _ in range(20)} == {escolher("42", "").nome}
    assert len({escolher(str(semente), "").nome for semente in range(40)}) == len(CATALOGO)


@pytest.mark.parametrize("resposta, trecho", [
    ("pagamentos", "duas palavras"), ("pagamento consulta-lenta", "não é um serviço"),
    ("pagamentos lentidao", "vocabulário das causas"), ("", "duas palavras")])
def test_resposta_fora_da_forma_diz_o_que_falta(resposta, trecho):
    entendida = avaliacao.entender(resposta)
    assert isinstance(entendida, str) and trecho in entendida


def incidente(lab, **variaveis) -> subprocess.CompletedProcess:
    """`make incidente NOME=… RESPOSTA=…` como o aluno o roda, na pasta do laboratório e com o ambiente dele."""
    return subprocess.run(["make", "-s", "incidente", *(f"{nome}={valor}" for nome, valor in variaveis.items())],
                          cwd=lab.raiz, env=lab.ambiente, capture_output=True, text=True, timeout=120)


def alertas_disparando(lab, servico: str) -> set[str]:
    """Os alertas disparando que falam de `servico` (os RED têm o rótulo service_name) ou da compra toda."""
    corpo = requests.get(lab.url("prometheus") + "/api/v1/alerts", timeout=5).json()
    return {alerta["labels"]["alertname"] for alerta in corpo["data"]["alerts"]
            if alerta["state"] == "firing" and alerta["labels"].get("service_name", servico) == servico}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if faltam := pilha_real.faltando():
        pytest.fail(f"falta {', '.join(faltam)} em .ferramentas/bin/: {pilha_real.COMO_CONSTRUIR}")
    with ModoLocal(tmp_path_factory.mktemp("incidentes") / "telemetria", PILHA="real") as laboratorio:
        yield laboratorio


@pytest.mark.e2e
@pytest.mark.turma
@pytest.mark.parametrize("escolhido", CATALOGO, ids=lambda i: i.nome)
def test_incidente_achado_pela_telemetria_avaliado_e_encerrado(lab, escolhido):
    fonte = FonteDocker(lab.url("jaeger"), lab.url("prometheus"), lab.url("victorialogs"))
    # Cada incidente começa sem alerta disparando (o anterior acabou e a janela dele passou).
    fim = time.monotonic() + PRAZO_DO_ALERTA_SEGUNDOS
    while (escolhido.alerta in alertas_disparando(lab, escolhido.servico)) and time.monotonic() < fim:
        time.sleep(2)
    assert escolhido.alerta not in alertas_disparando(lab, escolhido.servico), \
        f"{escolhido.alerta} ainda dispara pelo incidente anterior: o tempo até disparar não seria deste"
    comeco = incidente(lab, NOME=escolhido.nome)
    assert comeco.returncode == 0 and escolhido.nome not in comeco.stdout, explicar(comeco)
    inicio = time.time()
    try:
        desde = datetime.datetime.fromtimestamp(inicio, datetime.timezone.utc)
        evidencia = None
        while evidencia is None and time.time() - inicio < 60:
            evidencia = next((trace_id for trace_id, spans in compras(fonte.spans(desde=desde)).items()
                              if escolhido.mostra(spans)), None)
            time.sleep(1)
        assert evidencia, f"{escolhido.nome}: nenhum trace com o sintoma em 60 s"
        # Um trace sem o sintoma não é evidência (a carga também compra com sucesso).
        # Só um trace inteiro (os três serviços) conta como sem sintoma: um que ainda chega mostraria o sintoma depois.
        normal = next((t for t, spans in compras(fonte.spans(desde=desde)).items()
                       if completa(spans) and not escolhido.mostra(spans)), None)
        outro = next(s for s in SERVICOS if s != escolhido.servico)
        errada = incidente(lab, RESPOSTA=f"{outro} {escolhido.causa}", EVIDENCIA=evidencia)
        assert errada.returncode != 0 and f"✘ o sintoma não começa em {outro}: {escolhido.onde_olhar}" in errada.stdout, \
            explicar(errada)
        causa_errada = next(c for c in CAUSAS if c != escolhido.causa)
        meio = incidente(lab, RESPOSTA=f"{escolhido.servico} {causa_errada}", EVIDENCIA=normal or evidencia)
        assert meio.returncode != 0 and f"✘ {avaliacao.DICA_DA_CAUSA}" in meio.stdout, explicar(meio)
        if normal:
            assert "não mostra o sintoma" in meio.stdout, explicar(meio)
        certa = incidente(lab, RESPOSTA=escolhido.resposta, EVIDENCIA=evidencia[:12])
        assert certa.returncode == 0 and "✔ resolvido em" in certa.stdout and "na 3ª tentativa" in certa.stdout, \
            explicar(certa)
        disparou = None
        while escolhido.alerta and time.time() - inicio < PRAZO_DO_ALERTA_SEGUNDOS:
            if escolhido.alerta in alertas_disparando(lab, escolhido.servico):
                disparou = time.time() - inicio
                break
            time.sleep(2)
        print(f"\n{escolhido.nome}: evidência {evidencia[:8]}…, alerta {escolhido.alerta} "
              f"{'disparou em %.0f s' % disparou if disparou else 'não disparou'}")
        assert escolhido.alerta is None or disparou, f"{escolhido.alerta} não disparou em {PRAZO_DO_ALERTA_SEGUNDOS} s"
    finally:
        termino = incidente(lab, FIM=1)
    assert termino.returncode == 0 and f"resposta: {escolhido.resposta}" in termino.stdout \
        and "✔ o incidente em curso: encerrado" in termino.stdout, explicar(termino)
    # Depois do FIM: a compra volta a ser a de sempre, com o trace inteiro e sem o sintoma.
    resposta = lab.comprar(cartao="5555555555554444")
    assert resposta.status_code == 201, resposta.text
    depois = datetime.datetime.fromtimestamp(time.time() - 1, datetime.timezone.utc)
    fim = time.monotonic() + 20
    while time.monotonic() < fim:
        grupos = [spans for spans in compras(fonte.spans(desde=depois)).values()
                  if any(s["atributos"].get("bookstore.ordem.id") == resposta.json()["id"] for s in spans)]
        if grupos and {s["servico"] for s in grupos[0]} >= set(topologia.SERVICOS):
            assert not escolhido.mostra(grupos[0]), f"{escolhido.nome}: o sintoma continua depois do FIM"
            break
        time.sleep(1)
    else:
        pytest.fail("o trace da compra depois do FIM não chegou inteiro ao Jaeger em 20 s")


@pytest.mark.e2e
@pytest.mark.turma
def test_no_receptor_local_a_evidencia_vem_do_armazem(tmp_path):
    """Sem a pilha real (PILHA=receptor): o mesmo incidente e a mesma avaliação, lendo o receptor local."""
    escolhido = POR_NOME["consulta-lenta-pagamentos"]
    with ModoLocal(tmp_path / "telemetria", PILHA="receptor") as receptor:
        assert incidente(receptor, NOME=escolhido.nome).returncode == 0
        inicio = time.time()
        try:
            fonte = FonteLocal(pasta=receptor.pasta_telemetria)
            evidencia = None
            while evidencia is None and time.time() - inicio < 60:
                evidencia = next((trace_id for trace_id, spans in compras(avaliacao.spans_desde(fonte, inicio)).items()
                                  if escolhido.mostra(spans)), None)
                time.sleep(1)
            assert evidencia, "nenhum trace com o sintoma no receptor local em 60 s"
            certa = incidente(receptor, RESPOSTA=escolhido.resposta, EVIDENCIA=evidencia)
            assert certa.returncode == 0 and "✔ resolvido em" in certa.stdout, explicar(certa)
        finally:
            termino = incidente(receptor, FIM=1)
        assert termino.returncode == 0 and f"resposta: {escolhido.resposta}" in termino.stdout, explicar(termino)
