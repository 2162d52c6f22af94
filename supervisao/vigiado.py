"""Um processo que volta sozinho quando cai — como o `restart: unless-stopped` do compose.

O vigia é uma thread que espera o filho terminar. Se ninguém pediu para parar, diz no terminal
por quê ("✘ Collector caiu (morto pelo sinal SIGKILL …)") e sobe outro igual. Se ele cai logo
de novo (uma config que não sobe, uma porta tomada), a espera dobra até ESPERA_MAXIMA, em vez
de relançar em laço; uma vida de VIDA_ESTAVEL segundos zera a conta.
"""
import threading
import time
from collections.abc import Callable

from .filho import Filho, motivo, parar_juntos

ESPERA_MINIMA, ESPERA_MAXIMA = 0.5, 10.0  # segundos entre uma queda e a volta
VIDA_ESTAVEL = 5.0


class NaoSubiu(RuntimeError):
    pass


class Vigiado:
    """`Vigiado("Collector", criar, avisar, pronto).iniciar()`: o filho de `criar()` de pé e vigiado
    até `parar()`; `reiniciar()` o troca por outro (uma config nova) sem o aviso de queda.

    `pronto()` diz se o processo já atende; `o_que_segue` entra no aviso da queda (o que continua
    funcionando); `onde_olhar`, no fim dos avisos (o log dele)."""

    def __init__(self, nome: str, criar: Callable[[], Filho], avisar: Callable[[str], None],
                 pronto: Callable[[], bool] = lambda: True, *, o_que_segue: str = "os serviços seguem",
                 onde_olhar: str = "", de_volta: str = "", limite_para_ficar_pronto: float = 30):
        self.nome, self.criar, self.avisar, self.pronto = nome, criar, avisar, pronto
        self.o_que_segue, self.onde_olhar, self.de_volta = o_que_segue, onde_olhar, de_volta
        self.limite_para_ficar_pronto = limite_para_ficar_pronto
        self.filho: Filho | None = None
        self._parando, self._trocando = threading.Event(), threading.Event()
        self._trava = threading.Lock()
        self._vigia = threading.Thread(target=self._vigiar, name=f"vigia-{nome}", daemon=True)

    @property
    def pid(self) -> int:
        return self.filho.pid

    @property
    def prazo_para_parar(self) -> float:
        return self.filho.prazo_para_parar if self.filho else 0

    def lancar(self) -> None:
        with self._trava:
            if not self._parando.is_set():
                self.filho = self.criar().iniciar()

    def esperar_pronto(self) -> None:
        fim = time.monotonic() + self.limite_para_ficar_pronto
        while not self.pronto():
            if not self.filho.vivo() or time.monotonic() > fim:
                situacao = (motivo(self.filho.codigo) if not self.filho.vivo()
                            else f"não ficou pronto em {self.limite_para_ficar_pronto:.0f} s")
                raise NaoSubiu(f"{self.nome} não subiu ({situacao}){self._fim_do_log()}")
            time.sleep(0.05)

    def _fim_do_log(self) -> str:
        log = self.filho.log
        if not log or not log.exists():
            return ""
        ultimas = log.read_text(errors="replace").strip().splitlines()[-15:]
        return f". Fim de {log}:\n  " + "\n  ".join(ultimas)

    def vigiar(self) -> None:
        self._vigia.start()

    def iniciar(self) -> "Vigiado":
        """Lança, espera ficar pronto e começa a vigiar (quem sobe vários juntos chama os três à parte)."""
        self.lancar()
        self.esperar_pronto()
        self.vigiar()
        return self

    def _vigiar(self) -> None:
        espera = ESPERA_MINIMA
        while True:
            inicio, filho = time.monotonic(), self.filho
            codigo = filho.esperar()
            if self._parando.is_set():
                return
            if self._trocando.is_set():
                self._trocando.clear()
                espera = 0.0
            else:
                espera = ESPERA_MINIMA if time.monotonic() - inicio > VIDA_ESTAVEL else min(espera * 2, ESPERA_MAXIMA)
                self.avisar(f"✘ {self.nome} caiu ({motivo(codigo)}); {self.o_que_segue}. "
                            f"Subindo outro em {espera:.1f} s…{self.onde_olhar}")
            if self._parando.wait(espera):
                return
            self.lancar()
            if self._parando.is_set():  # pediram para parar enquanto esperava: não há outro
                return
            try:
                self.esperar_pronto()
            except NaoSubiu as erro:
                self.avisar(f"✘ {erro}")
                continue
            if not self._parando.is_set():
                self.avisar(f"✔ {self.nome} de volta{self.de_volta}")

    def reiniciar(self) -> None:
        """O sinal de parar; o vigia sobe outro na hora (sem o aviso de queda)."""
        self._trocando.set()
        self.filho.sinalizar()

    def sinalizar(self) -> None:
        """Pede para parar sem esperar e sem outro no lugar (quem para vários juntos chama `terminar` depois)."""
        with self._trava:
            self._parando.set()
        if self.filho:
            self.filho.sinalizar()

    def terminar(self, ate: float) -> None:
        if self.filho:
            self.filho.terminar(ate)
        if self._vigia.is_alive():
            self._vigia.join(timeout=2)

    def parar(self) -> None:
        parar_juntos([self])
