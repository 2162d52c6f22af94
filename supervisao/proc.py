"""O que o /proc do Linux diz de um processo: os filhos, a CPU gasta e a memória residente.

Para as ferramentas que medem (o bench, o perfil, o caos, o `make medir-pilha`). Fora do Linux
não há /proc: as funções devolvem vazio ou None, e as ferramentas dizem que não mediram.
"""
import os
from pathlib import Path


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


def _status(pid: int, campo: str) -> float | None:
    """Um campo em kB de /proc/<pid>/status, em MiB; None fora do Linux ou se o processo morreu."""
    try:
        for linha in Path(f"/proc/{pid}/status").read_text().splitlines():
            if linha.startswith(campo + ":"):
                return int(linha.split()[1]) / 1024
    except OSError:
        pass
    return None


def rss_mib(pid: int) -> float | None:
    """A memória residente agora (VmRSS)."""
    return _status(pid, "VmRSS")


def pico_mib(pid: int) -> float | None:
    """O maior RSS que o processo já teve (VmHWM: o kernel guarda o pico, nada escapa entre amostras)."""
    return _status(pid, "VmHWM")
