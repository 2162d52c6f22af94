"""O que cada autoteste afirma é o que o laboratório mostra — com spans montados
à mão, sem processo nenhum (os READMEs executados provam o resto em tests/test_exercicios.py)."""
from autoteste.exercicios import carregar
from bookstore import config
from bookstore.config import RAIZ
from telemetria_local.otlp import CLIENTE, INTERNO, SERVIDOR, STATUS_ERRO

EXERCICIOS = RAIZ / "exercises"


def span(trace: str, numero: int, servico: str, nome: str, pai: int = 0, kind=SERVIDOR, status=0, **atributos):
    return {"trace_id": trace, "span_id": f"{numero:016x}", "parent_id": f"{pai:016x}" if pai else "",
            "servico": servico, "nome": nome, "kind": kind, "status": status, "status_mensagem": "",
            "atributos": {k.replace("__", "."): v for k, v in atributos.items()}, "eventos": [], "recurso": {},
            "inicio_ns": numero, "fim_ns": numero + 10}


def compra_inteira(trace: str) -> list[dict]:
    return [span(trace, 1, "ordens", "POST /ordens", bookstore__ordem__status="concluida"),
            span(trace, 2, "ordens", "SELECT", 1, CLIENTE, db__system="postgresql"),
            span(trace, 3, "livros", "POST /reservas", 1), span(trace, 4, "pagamentos", "POST /pagamentos", 1)]


class Fonte:
    nome = "fonte de teste"

    def __init__(self, spans, concluidas=0):
        self._spans, self._concluidas = spans, concluidas

    def spans(self):
        return self._spans

    def total_do_contador(self, nome, atributos):
        return self._concluidas


def oks(pasta: str, fonte, resposta: str = "") -> list[bool]:
    return [ok for ok, *_ in carregar(EXERCICIOS / pasta).conferir(fonte, resposta)]


def test_12_traceidratio_com_a_mesma_razao_nao_parte_mas_o_autoteste_nao_aprova(monkeypatch):
    """A issue mediu: traceidratio puro, a mesma razão em todos, 22 de 85 guardados, nenhum partido —
    e o autoteste dizia "Tudo certo!". Nada se parte mesmo (a decisão vem do trace_id); o último
    critério cobra o parentbased_, que é o que segura o dia em que uma equipe muda a razão dela."""
    fonte = Fonte([s for n in range(22) for s in compra_inteira(f"{n:032x}")], concluidas=85)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    assert oks("12-amostragem", fonte) == [True, True, True, True, False]
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    assert oks("12-amostragem", fonte) == [True] * 5


def test_12_pedaco_de_livros_sem_a_raiz_falha(monkeypatch):
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    pedaco = [span("f" * 32, 7, "livros", "GET /livros/<int:livro_id>", pai=99)]
    fonte = Fonte([*compra_inteira("a" * 32), *pedaco], concluidas=40)
    assert oks("12-amostragem", fonte)[3] is False


def test_01_resposta_que_nao_e_um_trace_id_em_hexadecimal_falha():
    fonte = Fonte(compra_inteira("ab" * 16))
    assert oks("01-primeiro-trace", fonte, "zzzz")[1:] == [False, False, False]
    assert oks("01-primeiro-trace", fonte, "abababab") == [True] * 4


def test_01_a_dica_diz_onde_achar_o_id_no_modo_em_vigor(tmp_path):
    from telemetria_local.fontes import FonteLocal
    dica = carregar(EXERCICIOS / "01-primeiro-trace").conferir(FonteLocal(tmp_path), "")[2].dica
    assert "make traces" in dica and "Jaeger" not in dica


def test_01_com_a_pilha_real_do_make_local_a_dica_manda_ao_visualizador(monkeypatch):
    """O make local com a pilha real não tem a interface do Jaeger: a dica não manda o aluno para lá."""
    from telemetria_local import fontes
    monkeypatch.setattr(fontes, "responde", lambda url: url.startswith(config.url("visualizador")))

    class PilhaSemCompras(fontes.FonteDocker):
        def spans(self):
            return []
    dica = carregar(EXERCICIOS / "01-primeiro-trace").conferir(PilhaSemCompras(), "")[2].dica
    assert f"{config.url('visualizador')}/traces" in dica and "Jaeger" not in dica


def test_09_recusa_de_cartao_desfeita_nao_e_a_compra_com_pagamentos_fora(monkeypatch):
    """Uma 402 roda saga.compensar e cancela a reserva — mas pagamentos respondeu. O critério diz o
    que confere, e a dica diz por que esse trace não serve."""
    trace = "c" * 32
    recusa = [span(trace, 1, "ordens", "POST /ordens"), span(trace, 2, "ordens", "saga.compensar", 1, INTERNO),
              span(trace, 3, "livros", "POST /reservas/<uuid:reserva_id>/cancelamento", 2),
              span(trace, 4, "pagamentos", "POST /pagamentos", 1)]
    criterios = carregar(EXERCICIOS / "09-dependencia-fora").conferir(Fonte(recusa), trace)
    assert [ok for ok, *_ in criterios][:2] == [False, False]
    assert "pagamentos falhou (span de servidor em ERROR)" in criterios[1].texto
    assert "recusa de cartão" in criterios[1].dica
    com_falha = [*recusa[:3], span(trace, 4, "pagamentos", "POST /pagamentos", 1, status=STATUS_ERRO)]
    assert [ok for ok, *_ in carregar(EXERCICIOS / "09-dependencia-fora").conferir(Fonte(com_falha), trace)][:2] == [
        True, True]


# --- as respostas são julgadas, não entregues ------------------------------------------------------
def compra_por_mensagens(trace: str, espera_ms: float, espera_na_outbox_ms: float) -> list[dict]:
    """O POST /ordens e, para cada serviço, o `send` e o `process` (o do cobrar com as duas esperas)."""
    spans = [span(trace, 1, "ordens", "POST /ordens", bookstore__ordem__status="concluida")]
    for numero, (servico, chave) in enumerate((("livros", "livros.reservar"), ("pagamentos", "pagamentos.cobrar"),
                                               ("ordens", "ordens.pagamento")), start=1):
        envio = span(trace, 10 * numero, "ordens", f"send bookstore:{chave}", 1,
                     bookstore__outbox__espera_ms=espera_na_outbox_ms)
        processo = span(trace, 10 * numero + 1, servico, f"process bookstore:{chave}:{servico}", 10 * numero,
                        messaging__rabbitmq__destination__routing_key=chave, bookstore__mensagem__espera_ms=espera_ms)
        spans += [envio, processo]
    return spans


def test_19_a_espera_do_send_vizinho_nao_passa_e_o_x_nao_diz_o_valor_certo():
    trace = "1" * 32
    fonte = Fonte(compra_por_mensagens(trace, espera_ms=1.9, espera_na_outbox_ms=1.4))
    criterios = carregar(EXERCICIOS / "19-fila-no-trace").conferir(fonte, f"{trace[:8]} 1.4")
    assert [ok for ok, *_ in criterios] == [True, True, True, False]
    assert "1.9" not in criterios[3].texto and "você respondeu 1.4" in criterios[3].texto
    assert oks("19-fila-no-trace", fonte, f"{trace[:8]} 1.9") == [True] * 4
    assert oks("19-fila-no-trace", fonte, f"{trace[:8].upper()}… 1,88") == [True] * 4  # como colou do terminal


def test_19_um_id_curto_ou_ambiguo_da_uma_linha_so_com_o_motivo():
    fonte = Fonte(compra_por_mensagens("1" * 32, 1.9, 1.4) + compra_por_mensagens("1" * 8 + "2" * 24, 1.0, 1.0))
    curto = carregar(EXERCICIOS / "19-fila-no-trace").conferir(fonte, "1111111 1.9")
    assert len(curto) == 1 and "o id tem 7 caracteres" in curto[0].dica
    ambiguo = carregar(EXERCICIOS / "19-fila-no-trace").conferir(fonte, "11111111 1.9")
    assert len(ambiguo) == 1 and "serve para 2 compras" in ambiguo[0].dica
    traceparent = f"00-{'1' * 32}-{'a' * 16}-01"
    assert oks("19-fila-no-trace", fonte, f"{traceparent} 1.9") == [True] * 4


def test_20_o_x_da_contagem_nao_diz_quantos_traces_sao():
    criterio = carregar(EXERCICIOS / "20-pai-ou-link").conferir(Fonte([]), "6")[2]
    assert not criterio.ok and criterio.texto == "em quantos traces a compra ficou (você respondeu 6)"


def test_22_a_cobranca_que_foi_para_a_fila_de_mortas_nao_passa_por_cobrada():
    """Esqueceu a troca na chamada: TypeError em toda entrega, a mensagem vai para a fila de mortas. O
    primeiro critério não diz "cobrada", e a dica diz o que aconteceu em vez de mandar aplicar a quebra."""
    trace = "2" * 32
    compra = [span(trace, 1, "ordens", "POST /ordens")]
    for entrega in range(1, 6):
        falhou = span(trace, 10 + entrega, "pagamentos", "process bookstore:pagamentos.cobrar:pagamentos.comandos", 1,
                      status=STATUS_ERRO, messaging__rabbitmq__destination__routing_key="pagamentos.cobrar",
                      bookstore__mensagem__morta=entrega == 5)
        falhou["eventos"] = [("exception", {"exception.type": "TypeError",
                                            "exception.message": "_avaliar_risco() missing 1 required argument"})]
        compra.append(falhou)
    criterios = carregar(EXERCICIOS / "22-consumidor-sem-contexto").conferir(Fonte(compra), "")
    assert [ok for ok, *_ in criterios] == [False, False, False]
    for criterio in criterios[:2]:
        assert "fila de mortas" in criterio.dica and "TypeError" in criterio.dica and "git apply" not in criterio.dica
