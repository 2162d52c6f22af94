"""Portas do laboratório: uma livre para escutar (fora da faixa efêmera, reservada para a máquina
por um tempo) e, quando uma está ocupada, quem a segura — para a mensagem ao aluno dizer o que
fazer em vez de só "address already in use"."""
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


# Portas para escutar, abaixo da faixa efêmera do Linux (32768-60999). A porta que o kernel sorteia
# com bind(0) vem DESSA faixa — a mesma das portas de saída das conexões de cliente (requests,
# psycopg): entre escolher e escutar, uma conexão qualquer podia pegá-la (EADDRINUSE, raro e aleatório).
FAIXA_PARA_ESCUTAR = (20000, 32000)
# Uma porta entregue fica reservada por um tempo para a máquina inteira (um arquivo com o número dela):
# entre escolher e escutar, outro processo que também escolhe portas — o `make caos` ao lado do `make
# local`, a suíte em dois processos — não recebe a mesma. Sem isso, o `make bench` da suíte pode
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
