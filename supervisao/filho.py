"""Um processo filho do laboratório: morre com quem o subiu, fica num grupo próprio e para com prazo.

Se o `make local` for morto com SIGKILL (ou o terminal travar e alguém usar `kill -9`), nenhum
código de limpeza roda. Sem cuidado, os gunicorns e o PostgreSQL ficariam vivos segurando
8081-8083, e o próximo `make local` falharia. No Linux, o kernel resolve: PR_SET_PDEATHSIG
manda um sinal ao filho quando o pai morre. O `setpriv` (util-linux) liga isso antes de
executar o comando; os workers do gunicorn ligam o mesmo no `post_fork`
(bookstore/gunicorn_comum.py). Em outros sistemas não há esse mecanismo: aí a mensagem de
porta ocupada diz quem a segura (supervisao/portas.py).

O grupo de processos próprio faz duas coisas: o Ctrl-C do terminal chega só ao lançador (que
para cada um na ordem certa — os serviços esvaziam a telemetria antes de o receptor parar), e
no fim dá para matar o grupo inteiro, com os workers que sobraram.
"""
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

# O prazo padrão entre o sinal de parar e o SIGKILL: o gunicorn para os workers com graceful_timeout
# (4 s) e cada worker esvazia a telemetria com prazo (bookstore/telemetria.py); isso mais a margem.
PRAZO_PARA_PARAR_SEGUNDOS = 8


def prefixo_morre_com_o_pai(sinal: str = "KILL") -> list[str]:
    """Prefixo de comando que faz o filho receber `sinal` quando este processo morrer."""
    setpriv = shutil.which("setpriv")
    return [setpriv, f"--pdeathsig={sinal}", "--"] if setpriv and Path("/proc/self").exists() else []


def motivo(codigo: int | None) -> str:
    """Por que um processo terminou, para o aluno ler: o sinal que o matou ou o código de saída."""
    if codigo is None:
        return "ainda de pé"
    if codigo < 0:
        dica = " — falta de memória? o kernel mata assim" if codigo == -signal.SIGKILL else ""
        return f"morto pelo sinal {signal.Signals(-codigo).name}{dica}"
    return f"saiu com o código {codigo}"


class Filho:
    """`Filho(comando).iniciar()`: o processo de pé; `parar()` manda `parar_com`, espera o prazo e só
    então mata o grupo. `log`: arquivo que recebe a saída e os erros (aberto em modo de acréscimo)."""

    def __init__(self, comando, *, ao_morrer_o_pai: str = "KILL", parar_com: int = signal.SIGTERM,
                 prazo_para_parar: float = PRAZO_PARA_PARAR_SEGUNDOS, grupo_proprio: bool = True,
                 log: Path | None = None, **popen):
        self.comando = [str(parte) for parte in comando]
        self.ao_morrer_o_pai = ao_morrer_o_pai
        self.parar_com = parar_com
        self.prazo_para_parar = prazo_para_parar
        self.grupo_proprio = grupo_proprio
        self.log = Path(log) if log else None
        self.popen = popen
        self.processo: subprocess.Popen | None = None

    def iniciar(self) -> "Filho":
        opcoes = {"stdin": subprocess.DEVNULL, **self.popen, "start_new_session": self.grupo_proprio}
        comando = [*prefixo_morre_com_o_pai(self.ao_morrer_o_pai), *self.comando]
        if self.log:
            with open(self.log, "ab") as saida:
                self.processo = subprocess.Popen(comando, stdout=saida, stderr=subprocess.STDOUT, **opcoes)
        else:
            self.processo = subprocess.Popen(comando, **opcoes)
        return self

    @property
    def pid(self) -> int:
        return self.processo.pid

    @property
    def codigo(self) -> int | None:
        """None enquanto vive; depois, o código de saída (negativo: morto por aquele sinal)."""
        return self.processo.poll() if self.processo else None

    def vivo(self) -> bool:
        return self.processo is not None and self.processo.poll() is None

    def esperar(self, segundos: float | None = None) -> int | None:
        """O código de saída, ou None se ainda vive depois de `segundos`."""
        try:
            return self.processo.wait(timeout=segundos)
        except subprocess.TimeoutExpired:
            return None

    def sinalizar(self, sinal: int | None = None) -> None:
        if self.vivo():
            self.processo.send_signal(self.parar_com if sinal is None else sinal)

    def matar(self) -> None:
        """SIGKILL no grupo (os workers que sobraram, se houver) ou só no processo."""
        try:
            if self.grupo_proprio:
                os.killpg(self.processo.pid, signal.SIGKILL)
            else:
                self.processo.kill()
        except (ProcessLookupError, PermissionError):  # o grupo já acabou
            pass
        self.processo.wait()

    def terminar(self, ate: float) -> int:
        """Espera até o instante `ate` (time.monotonic) e mata o que restar: para quem parou vários juntos."""
        if self.processo is None:
            return 0
        self.esperar(max(0.0, ate - time.monotonic()))
        self.matar()
        return self.processo.returncode

    def parar(self, prazo: float | None = None) -> int:
        self.sinalizar()
        return self.terminar(time.monotonic() + (self.prazo_para_parar if prazo is None else prazo))

    def __enter__(self) -> "Filho":
        return self.iniciar()

    def __exit__(self, *exc) -> None:
        self.parar()


def parar_juntos(filhos, prazo: float | None = None) -> None:
    """Sinaliza todos primeiro e espera depois, com um prazo só: param em paralelo (em série, seriam
    alguns segundos por processo). Vale para um Filho e para um Vigiado (os dois têm `sinalizar`,
    `terminar` e `prazo_para_parar`)."""
    filhos = [filho for filho in filhos if filho is not None]
    for filho in filhos:
        filho.sinalizar()
    prazo = max((f.prazo_para_parar for f in filhos), default=0) if prazo is None else prazo
    fim = time.monotonic() + prazo
    for filho in filhos:
        filho.terminar(fim)


def soltar(comando) -> None:
    """Um processo que sobrevive a quem o subiu, numa sessão própria e sem saída: para trabalho que
    ninguém espera (apagar uma pasta de ~1000 arquivos depois do Ctrl-C) e que termina sozinho."""
    subprocess.Popen([str(parte) for parte in comando], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
