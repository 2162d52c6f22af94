"""A compra por mensagens no `make local` (ORDENS_SAGA=mensagens): o broker e os mensageiros.

`Mensageiros(lab, ambientes, quantos)` sobe `python -m bookstore.mensageria <serviço>` (o relay e o
consumidor do serviço) `quantos` vezes por serviço, com o ambiente do gunicorn dele (o mesmo banco) mais
a RABBITMQ_URL do usuário dele no broker (`broker.ambientes()`), e os vigia: um mensageiro que morre (o kill -9 de um exercício, falta de memória) é
trocado por outro, com uma linha no terminal — como o gunicorn faz com um worker. As mensagens que ele
segurava sem ack voltam para a fila e vão para o próximo consumidor.
"""
import subprocess
import sys

from bookstore import config, topologia
from bookstore.config import RAIZ
from supervisao.filho import Filho, parar_juntos
from supervisao.vigiado import Vigiado

from .rabbitmq import RabbitMQLocal, achar_servidor

def pedidos() -> bool:
    """ORDENS_SAGA=mensagens? Então o `make local` sobe o broker e os mensageiros. Sem o
    rabbitmq-server instalado, para antes de subir qualquer coisa."""
    if config.ler("ORDENS_SAGA") != "mensagens":
        return False
    achar_servidor()  # RabbitMQAusente: uma linha dizendo como instalar
    return True


def portas_a_mais() -> list[int]:
    return [config.porta("rabbitmq")]


def subir(pilha, lab) -> str:
    """O broker e os mensageiros, na `pilha` do make local (param antes dos serviços e do broker, na
    ordem inversa). Devolve as linhas do "Laboratório pronto"."""
    broker = pilha.enter_context(RabbitMQLocal(config.porta("rabbitmq")))
    linhas = [f"  {'rabbitmq':<11} amqp://127.0.0.1:{broker.porta}  (RabbitMQ numa pasta temporária, "
              f"{broker.rss_mib() or 0:.0f} MiB; um usuário por serviço, senhas em {broker.pasta_dos_acessos})"]
    # Com o gateway, as réplicas usam os mesmos bancos: os mensageiros vão com o ambiente da primeira.
    mensageiros = pilha.enter_context(Mensageiros(getattr(lab, "laboratorios", [lab])[0], broker.ambientes()))
    linhas.append(f"  {'mensageiros':<11} {mensageiros.quantos} por serviço (relay + consumidor): "
                  "python -m bookstore.mensageria <serviço>")
    return "\n".join(linhas)


class Mensageiros:
    def __init__(self, lab, ambientes: dict[str, dict], quantos: int | None = None, saida=None):
        self.lab = lab
        self.ambientes = ambientes  # {serviço: a RABBITMQ_URL do usuário dele}
        self.quantos = quantos or config.ler("MENSAGEIROS")
        self.saida = saida  # para onde vão a saída dos mensageiros e os avisos (padrão: o terminal)
        self.vigiados: dict[tuple[str, int], Vigiado] = {}

    def _vigiado(self, servico: str) -> Vigiado:
        log = self.lab.pasta_logs / f"{servico}-mensageiro.log" if self.lab.pasta_logs else None
        saida = {} if log else {"stdout": self.saida, "stderr": subprocess.STDOUT if self.saida else None}
        return Vigiado(f"mensageiro de {servico}", lambda: Filho(
            [sys.executable, "-m", "bookstore.mensageria", servico], cwd=RAIZ, log=log,
            env={**self.lab.ambiente_do_servico(servico), **self.ambientes[servico]}, **saida), self._avisar,
            o_que_segue="as mensagens que ele segurava voltam para a fila")

    def _iniciar(self, servico: str) -> None:
        for numero in range(self.quantos):
            self.vigiados[(servico, numero)] = vigiado = self._vigiado(servico)
            vigiado.iniciar()

    def iniciar(self) -> "Mensageiros":
        for servico in topologia.SERVICOS:
            self._iniciar(servico)
        return self

    def pids(self, servico: str) -> list[int]:
        return [v.pid for (nome, _), v in self.vigiados.items() if nome == servico and v.filho.vivo()]

    def _avisar(self, texto: str) -> None:
        print(texto, file=sys.stderr if self.saida is None else self.saida, flush=True)

    def _parar(self, chaves) -> None:
        parar_juntos([self.vigiados.pop(chave) for chave in list(chaves)])

    def parar_servico(self, servico: str) -> None:
        """Para os mensageiros de um serviço e não os troca (o "relay fora" dos testes, o consumidor
        parado de um exercício) até `retomar_servico`."""
        self._parar(chave for chave in self.vigiados if chave[0] == servico)

    def retomar_servico(self, servico: str) -> None:
        self._iniciar(servico)

    def parar(self) -> None:
        self._parar(self.vigiados)

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        self.parar()
