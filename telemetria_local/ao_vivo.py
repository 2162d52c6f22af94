"""Uma linha por trace terminado, no terminal do `make local`.

Quando é que um trace terminou? A raiz (o POST /ordens de uma compra) é o último
span a terminar, mas cada worker manda os seus spans em lotes a cada
OTEL_BSP_SCHEDULE_DELAY (1 s no laboratório): spans de livros e pagamentos podem
chegar um pouco depois da raiz. Então a linha sai ESPERA segundos depois de a
raiz chegar, com o que tiver chegado até lá (a árvore completa fica no armazém).

Em ordem de início: a raiz de um trace que começou antes pode chegar depois (cada worker manda
no seu ritmo) — o PUT que desligou a falha não pode aparecer antes do que a ligou. Então uma linha
pronta espera as de traces que começaram antes dela e cuja raiz já chegou (no máximo ESPERA).

Um trace sem raiz aqui também ganha linha, quando fica quieto por ESPERA_SEM_RAIZ: o continuado
de um `traceparent` de fora (a compra do `make diagnostico`, o passo 1 do exercício 02) e o pedaço
de um trace partido (exercício 12) — desde que tudo o que está sem pai seja span de SERVIDOR, quem
atendeu alguém de fora. Um trace em andamento (a raiz ainda aberta) tem spans da saga sem pai.
"""
import sys
import threading
import time

from . import otlp, traces

ESPERA_SEGUNDOS = 1.5
ESPERA_SEM_RAIZ_SEGUNDOS = 4.0
# Traces sem raiz (só pedaços) são esquecidos depois disso, para a memória não crescer.
ESQUECER_SEGUNDOS = 120


class ResumoAoVivo:
    """Consumidor do receptor: `ReceptorOTLP(consumidores=[ResumoAoVivo()])`."""

    def __init__(self, saida=None, espera: float = ESPERA_SEGUNDOS, espera_sem_raiz: float = ESPERA_SEM_RAIZ_SEGUNDOS):
        self.saida = saida or sys.stdout
        self.espera = espera
        self.espera_sem_raiz = espera_sem_raiz
        self._spans: dict[str, list[dict]] = {}
        self._visto_em: dict[str, float] = {}
        self._raiz_em: dict[str, float] = {}
        # Já impressos: um span atrasado (a cobrança que chegou depois do timeout) não vira outra linha.
        self._impressos: dict[str, float] = {}
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
                if trace_id in self._impressos:
                    continue
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
        self._imprimir_prontos(time.monotonic() + max(self.espera, self.espera_sem_raiz))

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

    def _entrou_de_fora(self, trace_id: str) -> bool:
        """Sem raiz aqui, e tudo o que está sem pai é SERVIDOR: quem chamou não é deste trace."""
        spans = self._spans[trace_id]
        ids = {s["span_id"] for s in spans}
        sem_pai = [s for s in spans if s["parent_id"] not in ids]
        return bool(sem_pai) and all(s["kind"] == otlp.SERVIDOR for s in sem_pai)

    def _imprimir_prontos(self, agora: float) -> None:
        with self._trava:
            # Os que terão linha: com a raiz, ou sem ela e quietos há ESPERA_SEM_RAIZ.
            candidatos = [t for t in self._spans if t in self._raiz_em or (
                agora - self._visto_em[t] >= self.espera_sem_raiz and self._entrou_de_fora(t))]
            inicio = {t: min(s["inicio_ns"] for s in self._spans[t]) for t in candidatos}
            prontos = []
            for trace_id in sorted(candidatos, key=inicio.get):
                if trace_id in self._raiz_em and agora - self._raiz_em[trace_id] < self.espera:
                    break  # começou antes dos que faltam: eles esperam por ele
                prontos.append(trace_id)
            linhas = [texto for t in prontos if (texto := self._linha(self._spans[t]))]
            velhos = [t for t, em in self._visto_em.items() if agora - em >= ESQUECER_SEGUNDOS]
            for trace_id in {*prontos, *velhos}:
                self._spans.pop(trace_id, None)
                self._visto_em.pop(trace_id, None)
                self._raiz_em.pop(trace_id, None)
            self._impressos.update(dict.fromkeys(prontos, agora))
            for trace_id in [t for t, em in self._impressos.items() if agora - em >= ESQUECER_SEGUNDOS]:
                del self._impressos[trace_id]
        for texto in linhas:
            print(texto, file=self.saida, flush=True)
