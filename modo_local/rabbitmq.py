"""O RabbitMQ do `make local` (ORDENS_SAGA=mensagens): o rabbitmq-server da máquina, numa pasta temporária.

Como o PostgreSQL embutido, o broker não toca em nada da máquina: config, banco (mnesia), logs e o
cookie do Erlang (HOME) ficam numa pasta temporária apagada no fim; as portas são as da topologia
(AMQP) e livres (distribuição do Erlang). Três cuidados que o broker não toma sozinho:

- epmd: o Erlang sobe um `epmd -daemon` que sobrevive ao broker e segura a porta 4369. Subimos o
  nosso, em primeiro plano numa porta livre, e o broker não sobe outro (`-start_epmd false`).
- morrer com o lançador: sem RABBITMQ_ALLOW_INPUT, o script do Debian fica como um `sh` pai do
  Erlang (para converter sinais), e o PR_SET_PDEATHSIG do `setpriv` mataria só o `sh`, deixando o
  beam órfão. Com ela o script faz `exec` e o processo lançado É o beam (o SIGTERM do Erlang para o
  nó com ordem); `-noinput` desliga o shell interativo que essa variável ligaria.
- memória: o alarme padrão é 0,4 × a RAM da máquina; o laboratório usa o mesmo arquivo de
  configuração do compose (rabbitmq/rabbitmq.conf), com um limite absoluto.
- a distribuição do Erlang: por padrão ela escuta em todas as interfaces (protegida só pelo cookie);
  `inet_dist_use_interface` a prende em 127.0.0.1, como o AMQP e o epmd.

Ninguém entra como `guest`: o broker sobe com as definições do laboratório (bookstore/mensageria/acessos.py)
— um usuário por serviço, com senha sorteada na pasta temporária, que só consome a fila dele e só
publica as mensagens que manda, e um `admin` (o dos testes). `broker.url(usuario)` dá a URL de cada um.

E ele volta sozinho quando cai (`restart: unless-stopped` no compose; aqui, supervisao.Vigiado): as
filas são quorum, guardadas em disco na mesma pasta, e o que os serviços publicaram enquanto ele
estava fora espera no outbox de cada um — o relay manda quando ele volta.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bookstore import config, mensagens, topologia
from bookstore.config import RAIZ, ConfiguracaoInvalida
from bookstore.mensageria import acessos
from supervisao.filho import Filho
from supervisao.portas import porta_livre, porta_ocupada
from supervisao.proc import rss_mib
from supervisao.vigiado import Vigiado

# Onde o Debian/Ubuntu (apt) e o Homebrew (Intel e Apple Silicon) põem o script. O /usr/sbin do
# Debian é um invólucro que só aceita root ou o usuário rabbitmq; o de /usr/lib roda como qualquer um.
CAMINHOS = ("/usr/lib/rabbitmq/bin/rabbitmq-server", "/opt/homebrew/sbin/rabbitmq-server",
            "/usr/local/sbin/rabbitmq-server")
COMO_INSTALAR = ("o RabbitMQ não está instalado: `sudo apt-get install rabbitmq-server` (Debian/Ubuntu) ou "
                 "`brew install rabbitmq` (macOS) — ou rode a compra síncrona (ORDENS_SAGA=http, o padrão)")
CONFIG_DO_LABORATORIO = RAIZ / "rabbitmq" / "rabbitmq.conf"
# Pronto em 2–16 s medidos; com a máquina ocupada (a suíte), mais.
PRONTO_EM_SEGUNDOS = 60
PRAZO_PARA_PARAR_SEGUNDOS = 15
# O Ra do RabbitMQ 3.10 (o do Debian) às vezes não elege sozinho o líder de uma fila quorum de um nó só
# depois de um kill -9: a fila fica em "leader not known" para sempre e a compra para nela (medido aqui:
# uma das três filas, em 3 de 5 quedas; https://github.com/rabbitmq/rabbitmq-server/issues/10070).
# Na volta, o lançador pede a eleição de cada fila quorum sem líder e só diz "de volta" quando não resta
# nenhuma. A expressão devolve quantas estavam sem líder.
ELEGER_FILAS_SEM_LIDER = ("length([ra:trigger_election(Id) || Q <- rabbit_amqqueue:list(), "
                          "amqqueue:get_type(Q) =:= rabbit_quorum_queue, Id <- [amqqueue:get_pid(Q)], "
                          "element(1, ra:members(Id, 500)) =/= ok]).")
# O que o aluno precisa saber enquanto o broker está fora (o aviso de queda do make local).
ENQUANTO_ESTA_FORA = ("POST /ordens segue respondendo 202 e cada compra espera no outbox de ordens; ela termina "
                      "(ou desiste, pelo prazo de abandono da saga) quando o broker volta")


class RabbitMQAusente(ConfiguracaoInvalida):
    """ORDENS_SAGA=mensagens sem o rabbitmq-server: o make local para com uma linha, sem traceback."""


def achar_servidor() -> str:
    for caminho in CAMINHOS:
        if Path(caminho).is_file():
            return caminho
    no_path = shutil.which("rabbitmq-server")
    if no_path:
        return no_path
    raise RabbitMQAusente(COMO_INSTALAR)


def achar_epmd(servidor: str) -> str:
    """O epmd do mesmo Erlang que o broker usa (PATH, ou ao lado dos binários do Erlang)."""
    no_path = shutil.which("epmd")
    if no_path:
        return no_path
    candidatos = sorted(Path("/usr/lib/erlang").glob("erts-*/bin/epmd")) + sorted(
        Path(servidor).resolve().parent.parent.glob("**/erts-*/bin/epmd"))
    if not candidatos:
        raise RabbitMQAusente("achei o rabbitmq-server, mas não o epmd do Erlang dele")
    return str(candidatos[-1])


class RabbitMQLocal:
    """`with RabbitMQLocal(porta) as broker:` um broker de pé até o `with` acabar; `broker.url(usuario)`,
    `broker.ambientes()` (a RABBITMQ_URL de cada mensageiro)."""

    def __init__(self, porta: int, saida=None, avisar=None, tentativas: int | None = None):
        self.porta = porta
        self.tentativas = tentativas or config.ler("MENSAGENS_TENTATIVAS")  # o x-delivery-limit das filas
        self.senhas: dict[str, str] = {}
        self.saida = saida  # arquivo para o log do broker (padrão: descartado; o log completo fica na pasta)
        self.avisar = avisar or (lambda texto: print(texto, file=sys.stderr, flush=True))  # as quedas e voltas
        self.pasta: Path | None = None
        self.processo: Vigiado | None = None
        self._ja_subiu = False  # a primeira subida não tem filas; as voltas conferem os líderes delas
        self.epmd: Filho | None = None

    def url(self, usuario: str = acessos.ADMINISTRADOR, vhost: str = "/") -> str:
        return f"amqp://{usuario}:{self.senhas[usuario]}@127.0.0.1:{self.porta}/{quote(vhost, safe='')}"

    def ambientes(self, vhost: str = "/") -> dict[str, dict]:
        """{serviço: {"RABBITMQ_URL": a URL com o usuário dele}}: o ambiente a mais de cada mensageiro."""
        return {servico: {"RABBITMQ_URL": self.url(servico, vhost)} for servico in topologia.SERVICOS}

    @property
    def pasta_dos_acessos(self) -> Path:
        return self.pasta / "acessos"

    def _preparar_acessos(self, vhost: str = "/") -> Path:
        """As senhas (sorteadas na primeira vez) e as definições do vhost; devolve o arquivo delas."""
        usuarios = mensagens.usuarios_do_broker()
        self.senhas = acessos.senhas(self.pasta_dos_acessos, [acessos.ADMINISTRADOR, *(u.nome for u in usuarios)])
        arquivo = self.pasta_dos_acessos / "broker" / f"definicoes-{vhost.strip('/') or 'raiz'}.json"
        arquivo.parent.mkdir(parents=True, exist_ok=True)
        arquivo.write_text(json.dumps(acessos.definicoes(usuarios, self.senhas, mensagens.filas_do_laboratorio(),
                                                         self.tentativas, vhost)))
        return arquivo

    def ambiente(self, porta_epmd: int) -> dict:
        pasta = self.pasta
        return {
            **os.environ,
            "HOME": str(pasta),  # o .erlang.cookie do nó nasce aqui, não na sua pasta pessoal
            "RABBITMQ_CONFIG_FILE": str(pasta / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(pasta / "mnesia"),
            "RABBITMQ_LOG_BASE": str(pasta / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(pasta / "enabled_plugins"),
            # Um nome por porta: dois laboratórios (ou a suíte e o seu make local) não se confundem no epmd.
            "RABBITMQ_NODENAME": f"bookstore-{self.porta}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.porta),
            "RABBITMQ_DIST_PORT": str(porta_livre()),
            "ERL_EPMD_PORT": str(porta_epmd),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_ALLOW_INPUT": "true",
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-start_epmd false -noinput "
                                                  "-kernel inet_dist_use_interface {127,0,0,1}",
        }

    def iniciar(self) -> "RabbitMQLocal":
        servidor = achar_servidor()
        epmd = achar_epmd(servidor)
        self.pasta = Path(tempfile.mkdtemp(prefix="bookstore-rabbitmq-"))
        # A config do compose (limite de memória) mais o que só vale aqui: escutar só em 127.0.0.1 e as
        # definições (usuários, permissões, filas) da pasta temporária, carregadas a cada subida.
        definicoes = self._preparar_acessos()
        (self.pasta / "rabbitmq.conf").write_text(
            CONFIG_DO_LABORATORIO.read_text(encoding="utf-8")
            + f"\nlisteners.tcp.default = 127.0.0.1:{self.porta}\nload_definitions = {definicoes}\n",
            encoding="utf-8")
        (self.pasta / "enabled_plugins").write_text("[].\n")  # sem plugins: sobe mais rápido, gasta menos
        porta_epmd = porta_livre()
        try:
            # O SIGTERM do Erlang para o nó com ordem (fecha as filas); o prazo é o de um nó ocupado.
            self.epmd = Filho([epmd, "-port", porta_epmd, "-address", "127.0.0.1"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, prazo_para_parar=PRAZO_PARA_PARAR_SEGUNDOS).iniciar()
            self._ambiente = self.ambiente(porta_epmd)
            self.processo = Vigiado(
                "RabbitMQ", lambda: Filho([servidor], env=self._ambiente, stdout=self.saida or subprocess.DEVNULL,
                                          stderr=subprocess.STDOUT, prazo_para_parar=PRAZO_PARA_PARAR_SEGUNDOS),
                self.avisar, self._pronto, o_que_segue=ENQUANTO_ESTA_FORA,
                onde_olhar=f" (log: {self.pasta / 'log'})", limite_para_ficar_pronto=PRONTO_EM_SEGUNDOS)
            self.processo.lancar()
            self._esperar_pronto()
            self._ja_subiu = True
            self.processo.vigiar()
        except BaseException:
            self.parar()
            raise
        return self

    def _esperar_pronto(self) -> None:
        fim = time.monotonic() + PRONTO_EM_SEGUNDOS
        while time.monotonic() < fim:
            if not self.processo.filho.vivo():
                raise RuntimeError(f"o RabbitMQ terminou ao subir (código {self.processo.filho.codigo}):\n"
                                   + self.log()[-3000:])
            if porta_ocupada(self.porta):
                return
            time.sleep(0.2)
        raise RuntimeError(f"o RabbitMQ não ficou pronto em {PRONTO_EM_SEGUNDOS} s:\n" + self.log()[-3000:])

    def _pronto(self) -> bool:
        if not porta_ocupada(self.porta):
            return False
        if not self._ja_subiu:
            return True
        sem_lider = self._ctl("eval", ELEGER_FILAS_SEM_LIDER, check=False)
        return sem_lider.returncode == 0 and sem_lider.stdout.strip() == "0"

    def _ctl(self, *argumentos, check: bool = True) -> subprocess.CompletedProcess:
        ctl = str(Path(achar_servidor()).with_name("rabbitmqctl"))
        return subprocess.run([ctl, "-n", self._ambiente["RABBITMQ_NODENAME"], *argumentos], env=self._ambiente,
                              check=check, capture_output=True, text=True, timeout=60)

    def criar_vhost(self, nome: str) -> dict[str, dict]:
        """Um vhost novo, com as mesmas filas e os mesmos usuários, sem se misturar: dois laboratórios num
        broker só (a suíte: o do caos e o dos outros testes). Devolve os ambientes dos mensageiros dele."""
        self._ctl("import_definitions", str(self._preparar_acessos(nome)))
        return self.ambientes(nome)

    def log(self) -> str:
        arquivos = sorted((self.pasta / "log").glob("*.log")) if self.pasta else []
        return "\n".join(a.read_text(errors="replace") for a in arquivos if "upgrade" not in a.name)

    def rss_mib(self) -> float | None:
        return rss_mib(self.processo.pid) if self.processo else None

    def parar(self) -> None:
        for processo in (self.processo, self.epmd):  # o nó antes do epmd em que ele está registrado
            if processo is not None:
                processo.parar()
        if self.pasta:
            shutil.rmtree(self.pasta, ignore_errors=True)
            self.pasta = None

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        self.parar()
