"""O RabbitMQ do `make local` como o Collector: morto com kill -9, volta sozinho, com uma linha no terminal, e
as compras aceitas enquanto ele estava fora terminam sozinhas quando ele volta. E ele só escuta em 127.0.0.1
— o AMQP, o epmd e a distribuição do Erlang.

Um `make local` com ORDENS_SAGA=mensagens (o receptor local: a pilha real não muda nada aqui).
"""
import os
import signal
import time
from pathlib import Path

import pytest
import requests

from supervisao.proc import filhos
from tests.apoio import esperar, exigir_rabbitmq, explicar, json_de
from tests.lancador import ModoLocal, rodar_diagnostico

pytestmark = pytest.mark.e2e

FINAIS = ("concluida", "pagamento_recusado", "estoque_indisponivel", "falhou")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    exigir_rabbitmq()
    with ModoLocal(tmp_path_factory.mktemp("broker") / "telemetria", ORDENS_SAGA="mensagens") as laboratorio:
        yield laboratorio


def descendentes(pid: int) -> list[int]:
    todos, fila = [], [pid]
    while fila:
        novos = filhos(fila.pop())
        todos += novos
        fila += novos
    return todos


def beam_do_lab(lab) -> int:
    """O nó Erlang do broker deste laboratório: o beam, entre os descendentes do make local, que escuta a
    porta AMQP dele."""
    def achar():
        for pid in descendentes(lab.processo.pid):
            try:
                comando = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"beam" in comando and lab.portas["rabbitmq"] in {porta for _, porta in escutas(pid)}:
                    return pid
            except OSError:  # terminou enquanto era lido
                continue
        return None
    return esperar(achar, 30, descricao="o processo beam do RabbitMQ do laboratório")


def escutas(pid: int) -> set[tuple[str, int]]:
    """(endereço, porta) de cada socket TCP em LISTEN do processo, lidos do /proc (IPv4 e IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            alvo = os.readlink(fd)
        except OSError:
            continue
        if alvo.startswith("socket:["):
            inodes.add(alvo[8:-1])
    achadas = set()
    for arquivo in ("tcp", "tcp6"):
        for linha in Path(f"/proc/{pid}/net/{arquivo}").read_text().splitlines()[1:]:
            campos = linha.split()
            if campos[3] == "0A" and campos[9] in inodes:  # 0A: LISTEN
                endereco, porta = campos[1].split(":")
                achadas.add((_ip(endereco), int(porta, 16)))
    return achadas


def _ip(hexa: str) -> str:
    if len(hexa) == 8:
        return ".".join(str(int(hexa[i:i + 2], 16)) for i in (6, 4, 2, 0))
    return "::" if set(hexa) == {"0"} else hexa  # IPv6: só interessa distinguir o "qualquer um"


def comprar(lab) -> int:
    resposta = requests.post(f"{lab.url('ordens')}/ordens", timeout=15,
                             json={"itens": [{"livro_id": 1, "quantidade": 1}], "cliente": "Ana"})
    assert resposta.status_code == 202, resposta.text
    return json_de(resposta)["id"]


def final(lab, ordem_id: int, limite: float) -> str:
    def status():
        atual = json_de(requests.get(f"{lab.url('ordens')}/ordens/{ordem_id}", timeout=10))["status"]
        return atual if atual in FINAIS else None
    try:
        return esperar(status, limite, intervalo=0.2, descricao=f"a ordem {ordem_id} terminar")
    except AssertionError as erro:
        avisos = [linha for linha in lab.saida().splitlines() if "mensageria" in linha or "RabbitMQ" in linha]
        raise AssertionError(f"{erro}; o que o make local disse das filas:\n" + "\n".join(avisos[-40:])
                             + "\nO fim do log do broker:\n" + log_do_broker(lab)[-6000:]) from None


def log_do_broker(lab) -> str:
    ambiente = dict(item.split("=", 1) for item in Path(f"/proc/{beam_do_lab(lab)}/environ").read_text().split("\0")
                    if "=" in item)
    return "\n".join(arquivo.read_text(errors="replace") for arquivo in Path(ambiente["RABBITMQ_LOG_BASE"]).glob("*.log")
                     if "upgrade" not in arquivo.name)


def test_o_broker_escuta_so_em_127_0_0_1(lab):
    portas = escutas(beam_do_lab(lab))
    assert ("127.0.0.1", lab.portas["rabbitmq"]) in portas, portas
    assert len(portas) >= 2, f"o AMQP e a distribuição do Erlang: {portas}"
    assert {endereco for endereco, _ in portas} == {"127.0.0.1"}, portas


def test_o_broker_morto_volta_sozinho_e_as_compras_de_enquanto_isso_terminam(lab):
    assert final(lab, comprar(lab), 60) == "concluida"
    beam = beam_do_lab(lab)
    morto_em = time.monotonic()
    os.kill(beam, signal.SIGKILL)
    caiu = lab.esperar_linha("✘ RabbitMQ caiu", 30)
    assert caiu and "SIGKILL" in caiu and "outbox" in caiu, lab.saida()[-3000:]
    durante = [comprar(lab) for _ in range(3)]  # o broker fora: a compra é aceita e espera no outbox
    assert lab.esperar_linha("✔ RabbitMQ de volta", 90), lab.saida()[-3000:]
    print(f"\nRabbitMQ de volta {time.monotonic() - morto_em:.1f} s depois do kill -9")
    assert beam_do_lab(lab) != beam
    assert [final(lab, ordem, 90) for ordem in durante] == ["concluida"] * 3
    # No terminal, uma linha quando a conexão cai e uma quando volta, não uma por tentativa a cada segundo.
    do_relay = [linha for linha in lab.saida().splitlines() if "relay de ordens:" in linha]
    assert len([linha for linha in do_relay if "tentando de novo" in linha]) == 1, do_relay
    assert any("de volta depois de" in linha for linha in do_relay), do_relay
    assert "Traceback" not in lab.saida(), lab.saida()[-3000:]
    assert final(lab, comprar(lab), 60) == "concluida"


def test_com_o_broker_parado_o_diagnostico_diz_que_a_compra_espera_no_outbox(lab):
    """O broker congelado (SIGSTOP: a porta aceita, ninguém responde, e o vigia não o troca): a compra de
    teste do `make diagnostico` volta 202 e fica em `criada`; a linha dela diz onde olhar — e, com o broker
    de volta, ela termina."""
    beam = beam_do_lab(lab)
    os.kill(beam, signal.SIGSTOP)
    try:
        resultado = rodar_diagnostico(lab)
    finally:
        os.kill(beam, signal.SIGCONT)
    (compra,) = [linha for linha in resultado.stdout.splitlines() if "compra de teste" in linha]
    assert compra.startswith("✘") and ": 202 criada;" in compra, explicar(resultado)
    assert "o RabbitMQ está no ar" in resultado.stdout and "espera no outbox de ordens" in resultado.stdout, \
        explicar(resultado)
    assert resultado.returncode != 0, explicar(resultado)
    assert final(lab, comprar(lab), 60) == "concluida"
