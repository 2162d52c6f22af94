"""Os processos do laboratório: portas livres e quem segura uma porta, filhos que morrem
com o pai, e os filhos e a CPU de um processo (lidos do /proc, para o bench e o caos).

Se o `make local` for morto com SIGKILL (ou o terminal travar e alguém usar
`kill -9`), nenhum código de limpeza roda. Sem cuidado, os gunicorns e o
PostgreSQL ficariam vivos segurando 8081-8083, e o próximo `make local` falharia.
No Linux, o kernel resolve: PR_SET_PDEATHSIG manda um sinal ao filho quando o pai
morre. O `setpriv` (util-linux) liga isso antes de executar o comando; os workers
do gunicorn ligam o mesmo no `post_fork` (bookstore/gunicorn_comum.py). Em outros
sistemas não há esse mecanismo: aí a mensagem de porta ocupada diz quem a segura.
"""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def prefixo_morre_com_o_pai(sinal: str = "KILL") -> list[str]:
    """Prefixo de comando que faz o filho receber `sinal` quando este processo morrer."""
    setpriv = shutil.which("setpriv")
    return [setpriv, f"--pdeathsig={sinal}", "--"] if setpriv and Path("/proc/self").exists() else []


# Portas para escutar, abaixo da faixa efêmera do Linux (32768-60999). A porta que o kernel sorteia
# com bind(0) vem DESSA faixa — a mesma das portas de saída das conexões de cliente (requests,
# psycopg): entre escolher e escutar, uma conexão qualquer podia pegá-la (EADDRINUSE, raro e aleatório).
FAIXA_PARA_ESCUTAR = (20000, 32000)
# Uma porta entregue fica reservada por um tempo para a máquina inteira (um arquivo com o número dela):
# entre escolher e escutar, outro processo que também escolhe portas — o `make caos` ao lado do `make
# local`, a suíte em dois processos — não recebe a mesma. Sem isso, o `make bench` da suíte chegou a
# comprar num livros de outro laboratório que escutou primeiro na porta do ordens dele (404).
PASTA_DAS_RESERVAS = "bookstore-portas-reservadas"  # na pasta temporária, uma por usuário
RESERVA_SEGUNDOS = 120


def _reservar(porta: int) -> bool:
    """True se a porta ficou reservada para quem chamou (ou se não há como reservar: a pasta temporária
    sem escrita não impede ninguém de subir o laboratório)."""
    try:
        pasta = Path(tempfile.gettempdir()) / f"{PASTA_DAS_RESERVAS}-{os.getuid()}"
        pasta.mkdir(exist_ok=True)
        arquivo = pasta / str(porta)
        try:
            if time.time() - arquivo.stat().st_mtime < RESERVA_SEGUNDOS:
                return False
            arquivo.unlink(missing_ok=True)  # vencida: de ninguém mais
        except FileNotFoundError:
            pass
        os.close(os.open(arquivo, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        return True
    except FileExistsError:  # outro processo a reservou agora
        return False
    except OSError:
        return True


def porta_livre() -> int:
    """Uma porta de 127.0.0.1 em que ninguém escuta agora e que nenhum outro processo recebeu há pouco,
    fora da faixa efêmera."""
    for _ in range(200):
        porta = random.randrange(*FAIXA_PARA_ESCUTAR)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", porta))
            except OSError:
                continue
        if _reservar(porta):
            return porta
    raise RuntimeError(f"nenhuma porta livre entre {FAIXA_PARA_ESCUTAR[0]} e {FAIXA_PARA_ESCUTAR[1]}")


def filhos(pid: int) -> list[int]:
    """Os pids cujo pai é `pid` (os workers de um master do gunicorn)."""
    saida = []
    for candidato in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{candidato}/stat") as arquivo:
                if int(arquivo.read().rsplit(")", 1)[1].split()[1]) == pid:
                    saida.append(int(candidato))
        except OSError:
            continue
    return saida


def cpu_segundos(pid: int) -> float:
    """utime + stime de um processo e dos filhos vivos dele (o master e os workers)."""
    tique = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for candidato in [pid, *filhos(pid)]:
        try:
            campos = Path(f"/proc/{candidato}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(campos[11]) + int(campos[12])) / tique  # utime, stime
    return total


def porta_ocupada(porta: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, porta)) == 0


def _inodes_escutando(porta: int) -> set[str]:
    inodes = set()
    for tabela in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            linhas = Path(tabela).read_text().splitlines()[1:]
        except OSError:
            continue
        for linha in linhas:
            campos = linha.split()
            endereco_local, estado, inode = campos[1], campos[3], campos[9]
            if estado == "0A" and int(endereco_local.rsplit(":", 1)[1], 16) == porta:  # 0A = LISTEN
                inodes.add(inode)
    return inodes


def _descrever(pid: str) -> str:
    try:
        linha = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        linha = "?"
    return f"pid {pid}: {linha[:120]}"


def quem_usa_a_porta(porta: int) -> str | None:
    """Quem escuta na porta, para dizer ao aluno (ex.: 'pid 4321: gunicorn: master [livros]').
    None se não der para saber (outro usuário, ou um sistema sem /proc e sem lsof)."""
    inodes = _inodes_escutando(porta)
    if inodes:
        alvos = {f"socket:[{inode}]" for inode in inodes}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                descritores = os.listdir(f"/proc/{pid}/fd")
                if any(os.readlink(f"/proc/{pid}/fd/{fd}") in alvos for fd in descritores):
                    return _descrever(pid)
            except OSError:
                continue
    if shutil.which("lsof"):  # macOS
        saida = subprocess.run(["lsof", "-nP", f"-iTCP:{porta}", "-sTCP:LISTEN", "-Fpc"],
                               capture_output=True, text=True).stdout.split()
        pid = next((campo[1:] for campo in saida if campo.startswith("p")), None)
        comando = next((campo[1:] for campo in saida if campo.startswith("c")), "?")
        if pid:
            return f"pid {pid}: {comando}"
    return None


def explicar_porta_ocupada(porta: int) -> str:
    dono = quem_usa_a_porta(porta)
    if dono is None:
        return f"a porta {porta} já está em uso (não consegui ver por qual processo)"
    dica = " — é o Docker: `docker compose down`" if "docker" in dono else ""
    return f"a porta {porta} já está em uso por {dono}{dica}"
