"""O `make local` mostra a telemetria sem Docker.

Primeiro o armazém e o formato (rápidos, sem processos); depois o `python -m
modo_local` de verdade — PostgreSQL, três gunicorns e o receptor OTLP local —
como o aluno o roda, em portas livres."""
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from bookstore import topologia
from bookstore.config import RAIZ
from supervisao.portas import porta_livre
from telemetria_local import armazem, otlp, traces
from tests.apoio import esperar, explicar, rodar
from tests.lancador import ModoLocal

LINHAS_DE_ERRO_DO_EXPORTADOR = re.compile(r"Transient error|Failed to export|Exception while exporting|"
                                          r"opentelemetry\.exporter")


def pedido_com_um_span(trace_id: bytes, span_id: bytes, nome: str = "GET /livros") -> ExportTraceServiceRequest:
    span = Span(trace_id=trace_id, span_id=span_id, name=nome, kind=otlp.SERVIDOR,
                start_time_unix_nano=1_000_000, end_time_unix_nano=3_500_000)
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=[span])])])


# --- formato e armazém ----------------------------------------------------------
def test_linha_gravada_e_otlp_json_com_ids_em_hexadecimal_e_volta_igual(tmp_path):
    trace_id, span_id = bytes(range(16)), bytes(range(8))
    pedido = pedido_com_um_span(trace_id, span_id)
    guardar = armazem.Armazem(tmp_path)
    guardar("traces", pedido.SerializeToString())

    linha = (tmp_path / "traces.jsonl").read_text().splitlines()[0]
    # Como o exporter `file` do Collector: camelCase, ids em hex, enums como números.
    assert '"traceId":"000102030405060708090a0b0c0d0e0f"' in linha
    assert '"spanId":"0001020304050607"' in linha and '"kind":2' in linha
    assert armazem.ler("traces", tmp_path) == [pedido]
    # O json_format sozinho também lê a linha — e erra os ids sem dar erro: por isso o de_json.
    ingenuo = json_format.Parse(linha, ExportTraceServiceRequest())
    assert ingenuo.resource_spans[0].scope_spans[0].spans[0].trace_id != trace_id


def test_armazem_limitado_gira_o_arquivo_e_guarda_o_anterior(tmp_path):
    guardar = armazem.Armazem(tmp_path, limite_por_arquivo=1000)
    for i in range(20):
        guardar("traces", pedido_com_um_span(bytes([i]) * 16, bytes([i]) * 8).SerializeToString())
    atual, anterior = tmp_path / "traces.jsonl", tmp_path / "traces.1.jsonl"
    assert atual.stat().st_size <= 1000 and anterior.stat().st_size <= 1000
    ids = [s["trace_id"] for s in armazem.itens("traces", tmp_path)]
    assert ids[-1] == "13" * 16 and "00" * 16 not in ids  # o mais novo ficou, o mais velho saiu
    assert ids == sorted(ids)  # do mais antigo ao mais novo, atravessando os dois arquivos


def test_linha_pela_metade_e_ignorada(tmp_path):
    armazem.Armazem(tmp_path)("traces", pedido_com_um_span(b"\1" * 16, b"\1" * 8).SerializeToString())
    with open(tmp_path / "traces.jsonl", "a") as arquivo:
        arquivo.write('{"resourceSpans":[{"scopeSp')  # o receptor gravando neste instante
    assert len(armazem.ler("traces", tmp_path)) == 1


# --- o make local de verdade ----------------------------------------------------------
@pytest.fixture(scope="module")
def compras_no_modo_local(tmp_path_factory):
    """20 compras com a configuração padrão, e a saída do terminal até o Ctrl-C. Antes delas,
    uma com o traceparent de um cliente (o passo 1 do exercício 02)."""
    pasta = tmp_path_factory.mktemp("telemetria")
    lab = ModoLocal(pasta).iniciar()
    try:
        assert lab.comprar(livro_id=4, cabecalhos={"traceparent": f"00-{TRACE_DE_FORA}-{PAI_DE_FORA}-01"}).ok
        # Livros 1 a 4 têm 10, 8, 5 e 12 exemplares: 20 compras cabem no estoque.
        respostas = [lab.comprar(livro_id=1 + i % 4) for i in range(20)]
        recusada = lab.comprar(cartao="4000000000000002")
        ultima = respostas[-1].json()["id"]
        trace_id = esperar_trace_da_ordem(pasta, ultima)
        assert lab.esperar_linha(f"trace {trace_id[:8]}…"), lab.saida()[-3000:]
    finally:
        segundos = lab.parar(signal.SIGINT)
    return lab, pasta, respostas, recusada, trace_id, segundos


TRACE_DE_FORA, PAI_DE_FORA = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def esperar_trace_da_ordem(pasta, ordem_id: int, limite: float = 15) -> str:
    def trace_inteiro():
        for grupo in traces.agrupar(armazem.itens("traces", pasta)).values():
            raiz = traces.raiz(grupo)
            servidores = [s for s in grupo if s["kind"] == otlp.SERVIDOR]
            if raiz and raiz["atributos"].get("bookstore.ordem.id") == ordem_id and len(servidores) == 5:
                return raiz["trace_id"]
        return None
    return esperar(trace_inteiro, limite, intervalo=0.2, descricao=f"o trace da ordem {ordem_id} chegar inteiro")


@pytest.mark.e2e
def test_armazem_guarda_o_trace_inteiro_de_uma_compra_em_otlp_json(compras_no_modo_local):
    lab, pasta, respostas, _, trace_id, _ = compras_no_modo_local
    assert [r.status_code for r in respostas] == [201] * 20
    # Cada linha dos três arquivos é um pedido de exportação que o json_format lê de volta.
    for sinal, nome in (("traces", "traces"), ("metrics", "metricas"), ("logs", "logs")):
        linhas = (pasta / f"{nome}.jsonl").read_text().splitlines()
        assert linhas and all(otlp.de_json(sinal, linha).ByteSize() > 0 for linha in linhas)
    grupo = traces.agrupar(armazem.itens("traces", pasta))[trace_id]
    ids = {s["span_id"] for s in grupo}
    assert {s["servico"] for s in grupo} == set(topologia.SERVICOS)
    assert all(s["parent_id"] in ids for s in grupo if s["parent_id"])  # nenhum pedaço solto
    assert any(s["nome"] == "SELECT" for s in grupo)
    # Os logs da compra estão lá, com o trace_id dela.
    assert any(r["trace_id"] == trace_id for r in armazem.itens("logs", pasta))


@pytest.mark.e2e
def test_terminal_mostra_uma_linha_por_trace_e_nenhum_erro_do_exportador(compras_no_modo_local):
    lab, _, _, recusada, trace_id, _ = compras_no_modo_local
    linha = next(l for l in lab.linhas if l.startswith(f"trace {trace_id[:8]}…"))
    assert re.fullmatch(r"trace [0-9a-f]{8}… POST /ordens 201 \d+ ms \d+ spans ordens→livros→pagamentos", linha)
    # As 20, a recusada e a continuada de um traceparent de fora (todo trace terminado ganha
    # a sua linha, mesmo sem raiz aqui — a compra do make diagnostico também é assim).
    compras = [l for l in lab.linhas if re.match(r"✘? ?trace [0-9a-f]{8}… POST /ordens", l)]
    assert len(compras) == 22, compras
    assert any(l.startswith(f"trace {TRACE_DE_FORA[:8]}… POST /ordens 201") and "sem raiz aqui" in l for l in compras)
    assert recusada.status_code == 402
    assert [l for l in lab.linhas if LINHAS_DE_ERRO_DO_EXPORTADOR.search(l)] == []


def make(alvo: str, pasta, *argumentos) -> str:
    """`make traces` / `make metricas` como o aluno os roda. `-o`: o venv desta suíte é dado
    como pronto (sem -o, uma lista de dependências recém-editada faria o make refazer o .venv
    no meio dos testes)."""
    resultado = rodar(["make", "--no-print-directory", "-o", ".venv/.instalado", alvo, *argumentos,
                       f"BIN={sys.prefix}/bin"], cwd=RAIZ, env={**os.environ, "TELEMETRIA_LOCAL_PASTA": str(pasta),
                                                                # nenhum Collector: o make traces lê o armazém
                                                                "COLLECTOR_SAUDE_URL": f"http://127.0.0.1:{porta_livre()}/"})
    assert resultado.returncode == 0, explicar(resultado)
    return resultado.stdout


def make_traces(pasta, *argumentos) -> str:
    return make("traces", pasta, *argumentos)


@pytest.mark.e2e
def test_make_traces_lista_e_desenha_a_arvore(compras_no_modo_local):
    _, pasta, _, _, trace_id, _ = compras_no_modo_local
    lista = make_traces(pasta, "N=3")
    # N=3: três linhas de trace (a da compra recusada, 402, começa com ✘)
    assert f"trace {trace_id} POST /ordens 201" in lista and len(re.findall(r"^(✘ )?trace ", lista, re.M)) == 3
    arvore = make_traces(pasta, f"TRACE={trace_id[:10]}")
    assert arvore.startswith(f"trace {trace_id}")
    # Serviço, span, tipo, atributos bookstore.* e eventos, recuados pela profundidade.
    assert re.search(r"^\s+0\.0\s+[\d.]+  ordens: POST /ordens  \[SERVER\]  bookstore\.ordem\.id=\d+", arvore, re.M)
    assert re.search(r"^[\s\d.]+    pagamentos: POST /pagamentos  \[SERVER\]", arvore, re.M)
    assert "• evento bookstore.ordem.transicao" in arvore
    # No fim, o recurso de cada processo que emitiu: o de ordens, configurado à mão.
    recursos = arvore.split('recursos (quem emitiu; no Jaeger, "Process"):\n')[1]
    assert re.search(r"^  ordens: .*service\.instance\.id=[0-9a-f-]{36}  service\.namespace=bookstore  "
                     r"service\.version=1\.0\.0", recursos, re.M)


@pytest.mark.e2e
def test_make_metricas_diz_tipo_unidade_e_quem_manda(compras_no_modo_local):
    _, pasta, *_ = compras_no_modo_local
    linhas = make("metricas", pasta).splitlines()
    assert re.split(r"\s{2,}", linhas[0]) == ["métrica", "tipo", "unidade", "serviços"]
    assert re.split(r"\s{2,}", next(l for l in linhas if l.startswith("bookstore.ordens "))) == [
        "bookstore.ordens", "contador", "{ordem}", "ordens"]
    duracao = next(l for l in linhas if l.startswith("http.server.request.duration "))
    assert duracao.endswith("histograma       s            livros, ordens, pagamentos")
    # A view do laboratório descarta esta (bookstore/telemetria.py); sob o zero-code ela volta (exercício 03).
    assert not any(l.startswith("http.server.active_requests") for l in linhas)


@pytest.mark.e2e
def test_make_traces_mostra_o_trace_continuado_de_um_cliente(compras_no_modo_local):
    # Sem raiz aqui (o pai é o span do cliente, que nunca chega): listado e desenhado mesmo assim.
    _, pasta, *_ = compras_no_modo_local
    assert f"trace {TRACE_DE_FORA} POST /ordens 201" in make_traces(pasta, "N=30")
    arvore = make_traces(pasta, f"TRACE={TRACE_DE_FORA}")
    assert re.search(rf"^\s+0\.0\s+[\d.]+  ordens: POST /ordens  \[SERVER, pai {PAI_DE_FORA[:8]}… fora deste trace\]",
                     arvore, re.M)
    assert re.search(r"^[\s\d.]+    pagamentos: POST /pagamentos  \[SERVER\]", arvore, re.M)


# O README promete ~3 s: sozinho na máquina, medimos 0,8–1,0 s. Com a suíte rodando outro laboratório na
# outra CPU, 3,3–3,9 s — e 5,4 e 6,5 s quando o vizinho é o caos por mensagens com o broker morto. O teto
# pega o que importa — um processo que não para e espera o SIGKILL, aos PRAZO_PARA_PARAR_SEGUNDOS (8 s) de
# supervisao/filho.py — sem falhar por causa do vizinho.
TETO_DA_PARADA_SEGUNDOS = 7


@pytest.mark.e2e
def test_ctrl_c_para_tudo_em_ate_3_segundos(compras_no_modo_local):
    *_, segundos = compras_no_modo_local
    assert segundos <= TETO_DA_PARADA_SEGUNDOS, f"{segundos:.1f} s"


@pytest.mark.e2e
@pytest.mark.parametrize("sinal", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_e_terminal_fechado_param_em_ate_3_segundos(tmp_path, sinal):
    with ModoLocal(tmp_path) as lab:
        assert lab.comprar().status_code == 201
        segundos = lab.parar(sinal)
    assert lab.processo.returncode == 0 and "Tudo parado." in lab.saida()
    assert segundos <= TETO_DA_PARADA_SEGUNDOS, f"{sinal.name}: {segundos:.1f} s"


@pytest.mark.e2e
def test_com_destino_inalcancavel_para_em_ate_6_segundos(tmp_path):
    from supervisao.portas import porta_livre
    with ModoLocal(tmp_path, OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{porta_livre()}") as lab:
        assert "Modo híbrido" in lab.saida() and "Receptor OTLP local" not in lab.saida()
        assert lab.comprar().status_code == 201  # a compra não espera a telemetria
        segundos = lab.parar(signal.SIGTERM)
    assert segundos <= 6, f"{segundos:.1f} s"


def descendentes(raiz: int) -> list[int]:
    filhos: dict[int, list[int]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            pai = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        filhos.setdefault(pai, []).append(int(pid))
    todos, fila = [], [raiz]
    while fila:
        novos = filhos.get(fila.pop(), [])
        todos += novos
        fila += novos
    return todos


def vivo(pid: int) -> bool:
    try:
        estado = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return estado != "Z"


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self").exists(), reason="PR_SET_PDEATHSIG e /proc são do Linux")
def test_sigkill_no_lancador_nao_deixa_processo_do_laboratorio(tmp_path):
    with ModoLocal(tmp_path) as lab:
        processos = descendentes(lab.processo.pid)
        # PostgreSQL (postmaster e auxiliares) + 3 masters + 6 workers do gunicorn.
        assert len(processos) >= 10
        lab.processo.kill()
        esperar(lambda: not any(map(vivo, processos)), limite=5, intervalo=0.05,
                descricao=f"os processos do laboratório morrerem: {[pid for pid in processos if vivo(pid)]}")


def test_zero_code_com_servico_desconhecido_diz_o_que_vale(tmp_path):
    resultado = rodar([sys.executable, "-m", "modo_local"], cwd=RAIZ, timeout=30,
                      env={**ModoLocal(tmp_path).ambiente, "ZERO_CODE": "pagamento"})
    assert resultado.returncode == 2, explicar(resultado)
    assert resultado.stderr == "✘ ZERO_CODE=pagamento: use livros, ordens, pagamentos\n"


def test_dois_processos_escolhendo_portas_ao_mesmo_tempo_nunca_recebem_a_mesma():
    """A suíte em dois processos, o `make caos` ao lado do `make local`: uma porta entregue fica reservada
    para a máquina (supervisao/portas.py). Sem a reserva, 300 sorteios em cada um de 12 000 portas
    repetiriam ~7 portas."""
    import subprocess
    codigo = "from supervisao.portas import porta_livre; print(*(porta_livre() for _ in range(300)))"
    processos = [subprocess.Popen([sys.executable, "-c", codigo], cwd=RAIZ, stdout=subprocess.PIPE, text=True)
                 for _ in range(2)]
    um, outro = (set(map(int, processo.communicate(timeout=60)[0].split())) for processo in processos)
    assert len(um) == len(outro) == 300 and not um & outro, sorted(um & outro)


def test_porta_ocupada_diz_quem_a_segura(tmp_path):
    import socket
    with socket.socket() as ocupante:
        ocupante.bind(("127.0.0.1", 0))
        ocupante.listen()
        porta = ocupante.getsockname()[1]
        lab = ModoLocal(tmp_path)
        lab.ambiente["PORTA_LIVROS"] = str(porta)
        resultado = rodar([sys.executable, "-m", "modo_local"], cwd=RAIZ, env=lab.ambiente, timeout=30)
    assert resultado.returncode == 1, explicar(resultado)
    assert f"a porta {porta} já está em uso por pid {os.getpid()}" in resultado.stderr
