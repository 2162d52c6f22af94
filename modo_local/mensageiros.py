"""A compra por mensagens no `make local` (ORDENS_SAGA=mensagens): o broker e os mensageiros.

`Mensageiros(lab, quantos)` sobe `python -m bookstore.mensageria <serviço>` (o relay e o consumidor do
serviço) `quantos` vezes por serviço, com o ambiente do gunicorn dele (o mesmo banco, o mesmo
RABBITMQ_URL), e os vigia: um mensageiro que morre (o kill -9 de um exercício, falta de memória) é
trocado por outro, com uma linha no terminal — como o gunicorn faz com um worker. As mensagens que ele
segurava sem ack voltam para a fila e vão para o próximo consumidor.
"""
import signal
import subprocess
import sys
import threading
import time

from bookstore import config, topologia
from bookstore.config import RAIZ

from .processos import prefixo_morre_com_o_pai
from .rabbitmq import RabbitMQLocal, achar_servidor

PRAZO_PARA_PARAR_SEGUNDOS = 8


def pedidos() -> bool:
    """ORDENS_SAGA=mensagens? Então o `make local` sobe o broker (se RABBITMQ_URL não apontar outro)
    e os mensageiros. Sem o rabbitmq-server instalado, para antes de subir qualquer coisa."""
    if config.ler("ORDENS_SAGA") != "mensagens":
        return False
    if not config.ler("RABBITMQ_URL"):
        achar_servidor()  # RabbitMQAusente: uma linha dizendo como instalar
    return True


def portas_a_mais() -> list[int]:
    return [] if config.ler("RABBITMQ_URL") else [topologia.porta("rabbitmq")]


def subir(pilha, lab) -> str:
    """O broker (num RabbitMQ local, ou o de RABBITMQ_URL) e os mensageiros, na `pilha` do make local
    (param antes dos serviços e do broker, na ordem inversa). Devolve as linhas do "Laboratório pronto"."""
    linhas = []
    if not config.ler("RABBITMQ_URL"):
        broker = pilha.enter_context(RabbitMQLocal(topologia.porta("rabbitmq")))
        linhas.append(f"  {'rabbitmq':<11} {broker.url()}  (RabbitMQ numa pasta temporária, "
                      f"{broker.rss_mib() or 0:.0f} MiB)")
    # Com o gateway, as réplicas usam os mesmos bancos: os mensageiros vão com o ambiente da primeira.
    mensageiros = pilha.enter_context(Mensageiros(getattr(lab, "laboratorios", [lab])[0]))
    linhas.append(f"  {'mensageiros':<11} {mensageiros.quantos} por serviço (relay + consumidor): "
                  "python -m bookstore.mensageria <serviço>")
    return "\n".join(linhas)


class Mensageiros:
    def __init__(self, lab, quantos: int | None = None, saida=None):
        self.lab = lab
        self.quantos = quantos or config.ler("MENSAGEIROS")
        self.saida = saida  # para onde vão a saída dos mensageiros e os avisos (padrão: o terminal)
        self.processos: dict[tuple[str, int], subprocess.Popen] = {}
        self._parando = threading.Event()
        self._pausados: set[str] = set()
        self._trava = threading.Lock()
        self._vigia = threading.Thread(target=self._vigiar, name="vigia-dos-mensageiros", daemon=True)

    def _arquivo(self, servico: str):
        if self.lab.pasta_logs:
            return open(self.lab.pasta_logs / f"{servico}-mensageiro.log", "ab")
        return self.saida

    def _iniciar(self, servico: str, numero: int) -> None:
        saida = self._arquivo(servico)
        self.processos[(servico, numero)] = subprocess.Popen(
            [*prefixo_morre_com_o_pai("KILL"), sys.executable, "-m", "bookstore.mensageria", servico], cwd=RAIZ,
            env=self.lab.ambiente_do_servico(servico), stdout=saida, stderr=subprocess.STDOUT if saida else None,
            start_new_session=True)
        if saida is not None and saida is not self.saida:
            saida.close()

    def iniciar(self) -> "Mensageiros":
        for servico in topologia.SERVICOS:
            for numero in range(self.quantos):
                self._iniciar(servico, numero)
        self._vigia.start()
        return self

    def pids(self, servico: str) -> list[int]:
        return [p.pid for (nome, _), p in self.processos.items() if nome == servico and p.poll() is None]

    def _avisar(self, texto: str) -> None:
        print(texto, file=sys.stderr if self.saida is None else self.saida, flush=True)

    def _vigiar(self) -> None:
        while not self._parando.wait(0.5):
            with self._trava:
                for (servico, numero), processo in list(self.processos.items()):
                    if processo.poll() is None or servico in self._pausados:
                        continue
                    self._avisar(f"✘ mensageiro de {servico} caiu (código {processo.returncode}); subindo outro")
                    self._iniciar(servico, numero)

    def parar_servico(self, servico: str) -> None:
        """Para os mensageiros de um serviço e não os troca (o "relay fora" dos testes, o consumidor
        parado de um exercício) até `retomar_servico`."""
        with self._trava:
            self._pausados.add(servico)
            self._parar([p for (nome, _), p in self.processos.items() if nome == servico])

    def retomar_servico(self, servico: str) -> None:
        with self._trava:
            self._pausados.discard(servico)
            for numero in range(self.quantos):
                self._iniciar(servico, numero)

    @staticmethod
    def _parar(processos) -> None:
        vivos = [p for p in processos if p.poll() is None]
        for processo in vivos:
            processo.send_signal(signal.SIGTERM)
        fim = time.monotonic() + PRAZO_PARA_PARAR_SEGUNDOS
        for processo in vivos:
            try:
                processo.wait(timeout=max(0.0, fim - time.monotonic()))
            except subprocess.TimeoutExpired:
                processo.kill()
                processo.wait()

    def parar(self) -> None:
        self._parando.set()
        with self._trava:
            self._parar(self.processos.values())

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        self.parar()
