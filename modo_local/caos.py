"""Caos: compras concorrentes enquanto um cronograma de falhas dispara, e depois a conta.

Usado pelo teste `tests/test_caos.py` (curto) e por `make caos` (mais longo, com a
tabela impressa, para o instrutor mostrar a saga sobrevivendo). As falhas:

- matar_worker      SIGKILL num worker do gunicorn (o master sobe outro);
- derrubar_conexoes pg_terminate_backend em todas as conexões dos três bancos;
- latencia          /admin/falhas com latência acima do timeout de quem chama;
- lentidao          latência abaixo do timeout: a dependência responde, devagar
                    (a compensação demora, e a recuperação passa por ela no meio);
- erros             /admin/falhas com metade das requisições respondendo 500.

Tudo sai de uma semente: o cronograma, os livros, os cartões. Os processos e a
rede não são determinísticos, então a mesma semente dá as mesmas falhas nas mesmas
horas, não os mesmos resultados — por isso a verificação não conta resultados:
confere invariantes que valem qualquer que seja a ordem dos acontecimentos.
"""
import os
import random
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from .postgres import PostgresEmbutido, porta_livre
from .servicos import Laboratorio

SEMENTE = 20261124
SERVICOS = ("livros", "ordens", "pagamentos")
TIPOS_DE_FALHA = ("matar_worker", "lentidao", "derrubar_conexoes", "latencia", "erros")
CARTOES = (("4111111111111111", 6), ("5555555555554444", 2), ("4000000000000002", 3))
TIMEOUT_DAS_DEPENDENCIAS = 2.0
# Cada falha de janela (latência, erros) dura isto e é desligada.
JANELA_SEGUNDOS = 2.0
ABANDONO_SEGUNDOS = 10
LIVROS = 6
# Estoque que não acaba no meio: o caminho inteiro da saga (cobrar, confirmar) roda o tempo todo.
EXEMPLARES_POR_LIVRO = 400

STATUS_EM_ANDAMENTO = ("criada", "estoque_reservado", "pagamento_aprovado")
MOTIVOS_POR_STATUS = {
    "concluida": {None},
    "estoque_indisponivel": {"estoque_insuficiente"},
    "pagamento_recusado": {"cartao_recusado", "limite_excedido"},
}


def ambiente_do_laboratorio() -> dict:
    """Timeouts curtos para a latência injetada virar timeout, e um abandono acima do
    maior intervalo entre duas escritas de uma saga viva (a compensação: até três
    chamadas × 2 s, mais a espera por conexão), mas curto o bastante para o teste."""
    return {
        "WEB_CONCURRENCY": "2", "CATALOGO_INICIAL": "false", "ADMIN_HABILITADO": "true",
        "LIVROS_TIMEOUT_SEGUNDOS": str(TIMEOUT_DAS_DEPENDENCIAS),
        "PAGAMENTOS_TIMEOUT_SEGUNDOS": str(TIMEOUT_DAS_DEPENDENCIAS),
        "ORDENS_ABANDONO_SEGUNDOS": str(ABANDONO_SEGUNDOS),
        "ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS": "1",
        # Uma requisição presa morre antes do abandono: nenhuma cobrança chega depois dele.
        "GUNICORN_TIMEOUT": "5",
        "DB_POOL_ESPERA_SEGUNDOS": "2",
    }


@dataclass(frozen=True)
class Falha:
    em_segundos: float
    tipo: str
    servico: str


def cronograma(semente: int, duracao_segundos: float) -> list[Falha]:
    """Uma falha a cada 1,5–3 s; os quatro tipos se revezam, o serviço é sorteado."""
    sorteio = random.Random(semente)
    falhas, instante = [], 1.0
    while instante < duracao_segundos - JANELA_SEGUNDOS:
        tipo = TIPOS_DE_FALHA[len(falhas) % len(TIPOS_DE_FALHA)]
        falhas.append(Falha(round(instante, 2), tipo, sorteio.choice(SERVICOS)))
        instante += sorteio.uniform(1.5, 3.0)
    return falhas


class Caos:
    def __init__(self, lab: Laboratorio, semente: int = SEMENTE):
        self.lab = lab
        self.semente = semente
        self.sorteio = random.Random(semente)
        self.iniciais: dict[int, int] = {}
        self.respostas: Counter = Counter()
        self.disparadas: Counter = Counter()
        self._trava = threading.Lock()

    # --- preparação ---------------------------------------------------------------
    def criar_livros(self) -> None:
        for numero in range(LIVROS):
            resposta = requests.post(self.lab.url("livros") + "/livros", timeout=10, json={
                "titulo": f"Livro do caos {numero + 1}", "preco": 10 + numero,
                "estoque": EXEMPLARES_POR_LIVRO})
            resposta.raise_for_status()
            self.iniciais[resposta.json()["id"]] = EXEMPLARES_POR_LIVRO

    # --- compras ------------------------------------------------------------------
    def _comprador(self, numero: int, fim: float) -> None:
        sorteio = random.Random(self.semente * 100 + numero)
        cartoes, pesos = zip(*CARTOES)
        sessao = requests.Session()
        while time.monotonic() < fim:
            corpo = {"itens": [{"livro_id": sorteio.choice(list(self.iniciais)),
                                "quantidade": sorteio.choice((1, 1, 2))}],
                     "cartao": sorteio.choices(cartoes, pesos)[0], "cliente": f"comprador {numero}"}
            cabecalhos = {"Idempotency-Key": str(uuid.UUID(int=sorteio.getrandbits(128)))}
            try:
                codigo = sessao.post(self.lab.url("ordens") + "/ordens", json=corpo, headers=cabecalhos,
                                     timeout=15).status_code
            except requests.RequestException as erro:
                codigo = type(erro).__name__  # ex.: o worker que atendia morreu
            with self._trava:
                self.respostas[codigo] += 1

    # --- falhas ---------------------------------------------------------------------
    def _falhas_admin(self, servico: str, **falha) -> None:
        corpo = {"latencia_ms": 0, "taxa_erro": 0, **falha}
        for _ in range(5):  # o próprio serviço pode estar sob falha: tenta de novo
            try:
                if requests.put(self.lab.url(servico) + "/admin/falhas", json=corpo, timeout=5).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)

    def disparar(self, falha: Falha) -> None:
        self.disparadas[falha.tipo] += 1
        if falha.tipo == "matar_worker":
            workers = filhos(self.lab.processos[falha.servico].pid)
            if workers:
                os.kill(self.sorteio.choice(sorted(workers)), signal.SIGKILL)
        elif falha.tipo == "derrubar_conexoes":
            for servico in SERVICOS:
                derrubar_conexoes(self.lab.postgres, self.lab.bancos[servico])
        else:
            injetar = {"latencia": {"latencia_ms": int(TIMEOUT_DAS_DEPENDENCIAS * 1000 + 500)},
                       "lentidao": {"latencia_ms": int(TIMEOUT_DAS_DEPENDENCIAS * 600)},
                       "erros": {"taxa_erro": 0.5}}[falha.tipo]
            self._falhas_admin(falha.servico, **injetar)
            threading.Timer(JANELA_SEGUNDOS, self._falhas_admin, (falha.servico,)).start()

    def rodar(self, duracao_segundos: float, compradores: int = 8) -> None:
        inicio = time.monotonic()
        fim = inicio + duracao_segundos
        threads = [threading.Thread(target=self._comprador, args=(n, fim)) for n in range(compradores)]
        for thread in threads:
            thread.start()
        for falha in cronograma(self.semente, duracao_segundos):
            time.sleep(max(0.0, inicio + falha.em_segundos - time.monotonic()))
            self.disparar(falha)
        for thread in threads:
            thread.join()
        time.sleep(JANELA_SEGUNDOS)  # as janelas abertas fecham
        for servico in SERVICOS:
            self._falhas_admin(servico)

    def esperar_recuperacao(self, limite_segundos: float = ABANDONO_SEGUNDOS + 20) -> int:
        return esperar_ordens_terminarem(self.lab, limite_segundos)


def esperar_ordens_terminarem(lab: Laboratorio, limite_segundos: float = ABANDONO_SEGUNDOS + 20) -> int:
    """Espera não haver ordem em andamento; devolve quantas sobraram."""
    fim = time.monotonic() + limite_segundos
    while True:
        restantes = consultar(lab.bancos["ordens"], "SELECT count(*) FROM ordens WHERE status = ANY(%s)",
                              list(STATUS_EM_ANDAMENTO))[0][0]
        if restantes == 0 or time.monotonic() > fim:
            return restantes
        time.sleep(0.5)


# --- processos e bancos -----------------------------------------------------------------
def filhos(pid: int) -> list[int]:
    saida = []
    for candidato in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{candidato}/stat") as arquivo:
                if int(arquivo.read().rsplit(")", 1)[1].split()[1]) == pid:
                    saida.append(int(candidato))
        except OSError:
            continue
    return saida


def derrubar_conexoes(postgres, url_do_banco: str) -> None:
    banco = url_do_banco.rsplit("/", 1)[1]
    with psycopg.connect(postgres.url(), autocommit=True) as conexao:
        conexao.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = %s AND pid <> pg_backend_pid()", (banco,))


def consultar(url: str, sql: str, *parametros) -> list[tuple]:
    with psycopg.connect(url) as conexao:
        return conexao.execute(sql, parametros).fetchall()


# --- a conta ------------------------------------------------------------------------------
def verificar_invariantes(lab: Laboratorio, iniciais: dict[int, int]) -> list[tuple[str, int, list]]:
    """(invariante, casos conferidos, violações) lendo os três bancos direto."""
    livros_db, ordens_db, pagamentos_db = (lab.bancos[s] for s in SERVICOS)
    resultado = []

    estoque = {livro: (fisico, ativo, vendido) for livro, fisico, ativo, vendido in consultar(livros_db, """
        SELECT l.id, l.estoque_fisico,
               coalesce(sum(ri.quantidade) FILTER (WHERE r.status = 'ativa' AND r.expira_em > clock_timestamp()), 0),
               coalesce(sum(ri.quantidade) FILTER (WHERE r.status = 'confirmada'), 0)
          FROM livros l LEFT JOIN reserva_itens ri ON ri.livro_id = l.id
          LEFT JOIN reservas r ON r.id = ri.reserva_id
         WHERE l.id = ANY(%s) GROUP BY l.id""", list(iniciais))}
    resultado.append(("estoque: disponível + reservado + vendido = inicial, nunca negativo", len(iniciais), [
        f"livro {livro}: físico {fisico}, reservado {ativo}, vendido {vendido}, inicial {iniciais[livro]}"
        for livro, (fisico, ativo, vendido) in estoque.items()
        if fisico + vendido != iniciais[livro] or fisico - ativo < 0]))

    ordens = {linha[0]: linha for linha in consultar(ordens_db, """
        SELECT o.id, o.status, o.motivo, o.desfazer_para, o.reserva_id::text, o.total,
               array_agg(h.status ORDER BY h.id)
          FROM ordens o JOIN ordem_historico h ON h.ordem_id = o.id GROUP BY o.id""")}
    pagamentos = {ordem: (status, motivo, valor) for ordem, status, motivo, valor in consultar(
        pagamentos_db, "SELECT ordem_id, status, motivo, valor FROM pagamentos")}
    reservas = {ordem: status for ordem, status in consultar(
        livros_db, "SELECT ordem_id, status FROM reservas WHERE status <> 'cancelada'")}
    confirmadas_por_id = {reserva for (reserva,) in consultar(
        livros_db, "SELECT id::text FROM reservas WHERE status = 'confirmada'")}

    em_andamento = [f"ordem {o}: {linha[1]}" for o, linha in ordens.items() if linha[1] in STATUS_EM_ANDAMENTO]
    resultado.append(("nenhuma ordem ficou em andamento", len(ordens), em_andamento))

    concluidas = [linha for linha in ordens.values() if linha[1] == "concluida"]
    resultado.append(("concluída: um pagamento aprovado do total e a reserva confirmada", len(concluidas), [
        f"ordem {o}: pagamento {pagamentos.get(o)}, reserva {reserva}"
        for o, _, _, _, reserva, total, _ in concluidas
        if pagamentos.get(o, (None,))[0] != "aprovado" or pagamentos[o][2] != total
        or reserva not in confirmadas_por_id]))

    falhadas = [linha for linha in ordens.values() if linha[1] not in (*STATUS_EM_ANDAMENTO, "concluida")]
    resultado.append(("ordem que não deu certo: nada cobrado, nada vendido", len(falhadas), [
        f"ordem {o} ({status}): pagamento {pagamentos.get(o)}, reserva {reservas.get(o)}"
        for o, status, *_ in falhadas
        if pagamentos.get(o, (None,))[0] == "aprovado" or reservas.get(o) == "confirmada"]))

    def historia_errada(linha) -> str | None:
        ordem, status, motivo, desfazer_para, _, _, historico = linha
        if status in STATUS_EM_ANDAMENTO:
            return None  # já contada acima
        if desfazer_para is not None:
            return f"terminou ({status}) com desfazer_para={desfazer_para}"
        if historico[0] != "criada" or historico[-1] != status:
            return f"histórico {historico} não termina em {status}"
        finais = [passo for passo in historico if passo not in STATUS_EM_ANDAMENTO]
        if len(finais) != 1:
            return f"histórico {historico} tem {len(finais)} status finais"
        permitidos = MOTIVOS_POR_STATUS.get(status)
        if permitidos is not None and motivo not in permitidos:
            return f"{status} com motivo {motivo}"
        pagamento = pagamentos.get(ordem)
        if pagamento and pagamento[0] == "recusado" and (status, motivo) != ("pagamento_recusado", pagamento[1]):
            return f"pagamentos recusou ({pagamento[1]}), mas a ordem diz {status}/{motivo}"
        return None

    resultado.append(("motivo e histórico contam o que aconteceu (recusado é cartao_recusado)", len(ordens), [
        f"ordem {linha[0]}: {erro}" for linha in ordens.values() if (erro := historia_errada(linha))]))
    return resultado


def imprimir(caos: Caos, invariantes) -> None:
    print(f"\nsemente {caos.semente}; falhas disparadas: "
          + ", ".join(f"{tipo} {n}" for tipo, n in sorted(caos.disparadas.items())))
    print("respostas de POST /ordens: " + ", ".join(f"{codigo}: {n}" for codigo, n in sorted(
        caos.respostas.items(), key=lambda item: str(item[0]))))
    print(f"\n{'invariante':<74}{'casos':>7}  resultado")
    for nome, casos, violacoes in invariantes:
        print(f"{nome:<74}{casos:>7}  {'✔' if not violacoes else f'✘ {len(violacoes)} violações'}")
        for violacao in violacoes[:10]:
            print(f"    {violacao}")


def main() -> int:
    duracao = float(os.environ.get("CAOS_SEGUNDOS", "60"))
    semente = int(os.environ.get("CAOS_SEMENTE", SEMENTE))
    print(f"make caos: {duracao:.0f} s de compras com falhas (semente {semente}), num laboratório próprio "
          "em portas livres.", flush=True)
    ambiente = ambiente_do_laboratorio()
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        ambiente["OTEL_SDK_DISABLED"] = "true"  # com o endpoint definido, os traces vão para o seu Jaeger
    with ExitStack() as pilha:
        postgres = pilha.enter_context(PostgresEmbutido())
        logs = Path(pilha.enter_context(tempfile.TemporaryDirectory(prefix="bookstore-caos-")))
        lab = Laboratorio(postgres, portas={s: porta_livre() for s in SERVICOS}, ambiente=ambiente, pasta_logs=logs)
        pilha.enter_context(lab)
        caos = Caos(lab, semente)
        caos.criar_livros()
        caos.rodar(duracao)
        print("compras encerradas; esperando a recuperação terminar as compensações...", flush=True)
        caos.esperar_recuperacao()
        invariantes = verificar_invariantes(lab, caos.iniciais)
        imprimir(caos, invariantes)
    return 0 if all(not violacoes for _, _, violacoes in invariantes) else 1


if __name__ == "__main__":
    sys.exit(main())
