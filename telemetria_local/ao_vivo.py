"""Uma linha por trace terminado, no terminal do `make local`.

Quando é que um trace terminou? A raiz (o POST /ordens de uma compra) é o último
span a terminar, mas cada worker manda os seus spans em lotes a cada
OTEL_BSP_SCHEDULE_DELAY (1 s no laboratório): spans de livros e pagamentos podem
chegar um pouco depois da raiz. Então a linha sai ESPERA segundos depois de a
raiz chegar, com o que tiver chegado até lá (a árvore completa fica no armazém).
"""
import sys
import threading
import time

from . import otlp, traces

ESPERA_SEGUNDOS = 1.5
# Traces sem raiz (só pedaços) são esquecidos depois disso, para a memória não crescer.
ESQUECER_SEGUNDOS = 120


class ResumoAoVivo:
    """Consumidor do receptor: `ReceptorOTLP(consumidores=[ResumoAoVivo()])`."""

    def __init__(self, saida=None, espera: float = ESPERA_SEGUNDOS):
        self.saida = saida or sys.stdout
        self.espera = espera
        self._spans: dict[str, list[dict]] = {}
        self._visto_em: dict[str, float] = {}
        self._raiz_em: dict[str, float] = {}
        self.ilegiveis = 0
        self._trava = threading.Lock()
        self._parar = threading.Event()
        self._thread = threading.Thread(target=self._laco, name="traces-ao-vivo", daemon=True)

    def __call__(self, sinal: str, corpo: bytes) -> None:
        if sinal != "traces":
            return
        agora = time.monotonic()
        try:
            spans = otlp.spans(otlp.TIPOS["traces"][0].FromString(corpo))
        except Exception as erro:  # o receptor já valida; isto é só para nunca derrubar quem chamou
            self._ilegivel(erro)
            return
        with self._trava:
            for span in spans:
                trace_id = span["trace_id"]
                self._spans.setdefault(trace_id, []).append(span)
                self._visto_em[trace_id] = agora
                if not span["parent_id"]:
                    self._raiz_em.setdefault(trace_id, agora)

    def iniciar(self) -> "ResumoAoVivo":
        self._thread.start()
        return self

    def parar(self) -> None:
        """Imprime o que ainda estava esperando e para."""
        self._parar.set()
        if self._thread.is_alive():
            self._thread.join()
        self._imprimir_prontos(time.monotonic() + self.espera)

    def _laco(self) -> None:
        # Esta thread é a única que imprime: se ela morresse, nenhuma linha sairia até o fim da
        # sessão, calada. Então nada que venha de um cliente pode terminá-la.
        while not self._parar.wait(0.2):
            try:
                self._imprimir_prontos(time.monotonic())
            except Exception as erro:
                self._ilegivel(erro)

    def _ilegivel(self, erro: Exception) -> None:
        self.ilegiveis += 1
        print(f"✘ resumo ao vivo: 1 trace ilegível ignorado ({type(erro).__name__}: {str(erro)[:120]}); "
              f"{self.ilegiveis} até agora", file=self.saida, flush=True)

    def _linha(self, spans: list[dict]) -> str | None:
        try:
            return traces.linha(spans)
        except Exception as erro:
            self._ilegivel(erro)
            return None

    def _imprimir_prontos(self, agora: float) -> None:
        with self._trava:
            prontos = [t for t, em in self._raiz_em.items() if agora - em >= self.espera]
            linhas = [texto for t in prontos if (texto := self._linha(self._spans[t]))]
            velhos = [t for t, em in self._visto_em.items() if agora - em >= ESQUECER_SEGUNDOS]
            for trace_id in {*prontos, *velhos}:
                self._spans.pop(trace_id, None)
                self._visto_em.pop(trace_id, None)
                self._raiz_em.pop(trace_id, None)
        for texto in linhas:
            print(texto, file=self.saida, flush=True)
