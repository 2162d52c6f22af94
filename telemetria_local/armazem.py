"""O armazém da telemetria local: `.telemetria/*.jsonl`, uma exportação por linha.

Cada pedido de exportação que o receptor aceita vira UMA linha de OTLP/JSON
(ver `otlp.py`) em `traces.jsonl`, `metricas.jsonl` ou `logs.jsonl` — o formato
do exporter `file` do Collector, que o receiver `otlpjsonfile` do Collector
também lê. É o que `make traces` e os autotestes dos exercícios leem.

Tamanho limitado: quando um arquivo passaria de LIMITE_POR_ARQUIVO, ele vira
`<nome>.1.jsonl` (substituindo o anterior) e um novo começa. No máximo
2 × 16 MiB por sinal, 96 MiB no total — umas 500 compras por arquivo de traces.
"""
import threading
from pathlib import Path

from google.protobuf import json_format
from google.protobuf.message import DecodeError

from bookstore import config

from . import otlp


def pasta_padrao() -> Path:
    """`.telemetria/` na raiz do projeto, ou TELEMETRIA_LOCAL_PASTA (os testes usam)."""
    return Path(config.ler("TELEMETRIA_LOCAL_PASTA") or config.RAIZ / ".telemetria")

ARQUIVOS = {"traces": "traces", "metrics": "metricas", "logs": "logs"}
LIMITE_POR_ARQUIVO = 16 * 1024 * 1024


def arquivo(pasta: Path, sinal: str, anterior: bool = False) -> Path:
    return Path(pasta) / (f"{ARQUIVOS[sinal]}.1.jsonl" if anterior else f"{ARQUIVOS[sinal]}.jsonl")


class Armazem:
    """Consumidor do receptor: `ReceptorOTLP(consumidores=[Armazem(pasta)])`."""

    def __init__(self, pasta: Path | None = None, limite_por_arquivo: int = LIMITE_POR_ARQUIVO):
        self.pasta = Path(pasta) if pasta else pasta_padrao()
        self.limite = limite_por_arquivo
        self._trava = threading.Lock()

    def limpar(self) -> None:
        """Começa vazio (o `make local` começa do zero, como os bancos)."""
        for sinal in ARQUIVOS:
            for anterior in (False, True):
                arquivo(self.pasta, sinal, anterior).unlink(missing_ok=True)

    def __call__(self, sinal: str, corpo: bytes) -> None:
        try:
            linha = otlp.para_json(otlp.TIPOS[sinal][0].FromString(corpo)) + "\n"
        except DecodeError:
            return  # um pedido corrompido não derruba o receptor; o exportador já recebeu a resposta
        dados = linha.encode("utf-8")
        destino = arquivo(self.pasta, sinal)
        with self._trava:
            self.pasta.mkdir(parents=True, exist_ok=True)
            if destino.exists() and destino.stat().st_size + len(dados) > self.limite:
                destino.replace(arquivo(self.pasta, sinal, anterior=True))
            with open(destino, "ab") as saida:
                saida.write(dados)


def ler(sinal: str, pasta: Path | None = None) -> list:
    """Os pedidos gravados (protobuf), do mais antigo ao mais novo. Uma linha
    pela metade (o receptor gravando agora) é ignorada."""
    pedidos = []
    pasta = pasta or pasta_padrao()
    for caminho in (arquivo(pasta, sinal, anterior=True), arquivo(pasta, sinal)):
        if not caminho.exists():
            continue
        with open(caminho, encoding="utf-8") as entrada:
            for linha in entrada:
                try:
                    pedidos.append(otlp.de_json(sinal, linha))
                except (ValueError, json_format.ParseError):
                    continue
    return pedidos


def itens(sinal: str, pasta: Path | None = None) -> list[dict]:
    """Spans, métricas ou logs gravados, achatados como em `otlp.spans()` etc."""
    return [item for pedido in ler(sinal, pasta) for item in otlp.ACHATAR[sinal](pedido)]
