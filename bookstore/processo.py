"""Um worker não sobrevive ao master que o criou.

O gunicorn já percebe a morte do master, mas só quando o worker acorda (até
`timeout`/2 segundos depois). No Linux, PR_SET_PDEATHSIG faz o kernel mandar um
sinal ao processo no instante em que o pai morre. Em outros sistemas, nada muda.
"""
import ctypes
import ctypes.util
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def morrer_com_o_pai(sinal: int = signal.SIGKILL) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    return libc.prctl(PR_SET_PDEATHSIG, int(sinal), 0, 0, 0) == 0
