"""O armazém da telemetria local: `.telemetria/*.jsonl`, uma exportação por linha.

Cada pedido de exportação que o receptor aceita vira UMA linha de OTLP/JSON
(ver `otlp.py`) em `traces.jsonl`, `metricas.jsonl` ou `logs.jsonl` — o formato
do exporter `file` do Collector, que o receiver `otlpjsonfile` do Collector
também lê. É o que `make traces` e os autotestes dos exercícios leem.

Tamanho limitado: quando um arquivo passaria de LIMITE_POR_ARQUIVO, ele vira
`<nome>.1.jsonl` (substituindo o anterior) e um novo começa. No máximo
2 × 16 MiB por sinal, 96 MiB no total — umas 500 compras por arquivo de traces.
Uma linha também tem limite (LIMITE_POR_LINHA): o limite do arquivo não segura uma
linha só, e quem lê carrega a linha inteira na memória. Um pedido maior é dividido
em vários (o recurso e o escopo se repetem); um span, ponto ou log que sozinho não
cabe é recusado e contado, e o receptor devolve isso como sucesso parcial.

Quem lê pula o que não consegue ler e conta (`ilegiveis`): uma linha estragada não
pode esconder o resto do arquivo.
"""
import os
import sys
import threading
from pathlib import Path

from google.protobuf.message import DecodeError

from bookstore import config

from . import otlp


def pasta_padrao() -> Path:
    """`.telemetria/` na raiz do projeto, ou TELEMETRIA_LOCAL_PASTA (os testes usam)."""
    return Path(config.ler("TELEMETRIA_LOCAL_PASTA") or config.RAIZ / ".telemetria")

ARQUIVOS = {"traces": "traces", "metrics": "metricas", "logs": "logs"}
LIMITE_POR_ARQUIVO = 16 * 1024 * 1024
LIMITE_POR_LINHA = 4 * 1024 * 1024


def arquivo(pasta: Path, sinal: str, anterior: bool = False) -> Path:
    return Path(pasta) / (f"{ARQUIVOS[sinal]}.1.jsonl" if anterior else f"{ARQUIVOS[sinal]}.jsonl")


class Armazem:
    """Consumidor do receptor: `ReceptorOTLP(consumidores=[Armazem(pasta)])`. Devolve quantos
    itens recusou (0 quase sempre)."""

    def __init__(self, pasta: Path | None = None, limite_por_arquivo: int = LIMITE_POR_ARQUIVO,
                 limite_por_linha: int | None = None):
        self.pasta = Path(pasta) if pasta else pasta_padrao()
        self.limite = limite_por_arquivo
        self.limite_linha = min(limite_por_linha or LIMITE_POR_LINHA, limite_por_arquivo)
        self._trava = threading.Lock()
        self._terminar_linhas_cortadas()

    def limpar(self) -> None:
        """Começa vazio (o `make local` começa do zero, como os bancos)."""
        for sinal in ARQUIVOS:
            for anterior in (False, True):
                arquivo(self.pasta, sinal, anterior).unlink(missing_ok=True)

    def _terminar_linhas_cortadas(self) -> None:
        """Um receptor morto no meio de uma gravação deixa uma linha sem o \\n: sem fechá-la, a
        primeira linha do receptor novo grudaria nela e as duas ficariam ilegíveis."""
        for sinal in ARQUIVOS:
            destino = arquivo(self.pasta, sinal)
            try:
                with open(destino, "rb+") as saida:
                    if saida.seek(0, os.SEEK_END) == 0:
                        continue
                    saida.seek(-1, os.SEEK_END)
                    if saida.read(1) != b"\n":
                        saida.write(b"\n")
            except FileNotFoundError:
                continue

    def __call__(self, sinal: str, corpo: bytes) -> int:
        try:
            pedido = otlp.TIPOS[sinal][0].FromString(corpo)
        except DecodeError:
            return 0  # o receptor já recusou (400); aqui só não derruba quem chamou
        linhas, recusados = [], 0
        for parte in self._em_linhas(sinal, pedido):
            if isinstance(parte, int):
                recusados += parte
            else:
                linhas.append(parte)
        if recusados:
            singular, plural = NOMES[sinal]
            print(f"armazém: recusei {recusados} {singular if recusados == 1 else plural} grande(s) demais "
                  f"para uma linha (mais de {self.limite_linha // 1024} KiB)", file=sys.stderr, flush=True)
        if linhas:
            self._gravar(sinal, b"".join(linhas))
        return recusados

    def _em_linhas(self, sinal: str, pedido):
        """As linhas (bytes) do pedido, cada uma dentro do limite; um int no lugar de uma linha
        conta os itens que não cabem nem sozinhos."""
        dados = (otlp.para_json(pedido) + "\n").encode("utf-8")
        if len(dados) <= self.limite_linha:
            yield dados
            return
        metades = dividir(sinal, pedido)
        if metades is None:
            yield otlp.contar(sinal, pedido) or 1
            return
        for metade in metades:
            yield from self._em_linhas(sinal, metade)

    def _gravar(self, sinal: str, dados: bytes) -> None:
        destino = arquivo(self.pasta, sinal)
        with self._trava:
            self.pasta.mkdir(parents=True, exist_ok=True)
            if destino.exists() and destino.stat().st_size + len(dados) > self.limite:
                destino.replace(arquivo(self.pasta, sinal, anterior=True))
            with open(destino, "ab") as saida:
                saida.write(dados)


NOMES = {"traces": ("span", "spans"), "metrics": ("ponto de métrica", "pontos de métrica"),
         "logs": ("registro de log", "registros de log")}


def dividir(sinal: str, pedido):
    """Um pedido em dois, cada um com metade dos recursos — ou, se só há um, metade dos escopos
    dele, ou metade dos itens (o recurso e o escopo vão junto nas duas metades). None se o
    pedido tem um item só (um span, uma métrica, um log): aí não há como dividir."""
    for caminho in ((), (0,), (0, 0)):
        lista = _no(pedido, sinal, caminho)
        if len(lista) > 1:
            metades = []
            for inicio, fim in ((0, len(lista) // 2), (len(lista) // 2, len(lista))):
                copia = type(pedido)()
                copia.CopyFrom(pedido)
                parte = _no(copia, sinal, caminho)
                del parte[fim:]
                del parte[:inicio]
                metades.append(copia)
            return metades
        if not lista:
            return None
    return None


def _no(pedido, sinal: str, caminho: tuple):
    """A lista repetida no nível len(caminho): os recursos, os escopos do recurso 0, ou os itens
    do escopo 0 do recurso 0."""
    campos = otlp.NIVEIS[sinal]
    no = pedido
    for nivel, indice in enumerate(caminho):
        no = getattr(no, campos[nivel])[indice]
    return getattr(no, campos[len(caminho)])


def ler(sinal: str, pasta: Path | None = None, ilegiveis: list | None = None) -> list:
    """Os pedidos gravados (protobuf), do mais antigo ao mais novo. Uma linha pela metade no fim
    (o receptor gravando agora) é ignorada; uma linha inteira que não dá para ler é pulada e,
    se `ilegiveis` for uma lista, anotada nela (o motivo, curto)."""
    pedidos = []
    pasta = pasta or pasta_padrao()
    for caminho in (arquivo(pasta, sinal, anterior=True), arquivo(pasta, sinal)):
        if not caminho.exists():
            continue
        with open(caminho, encoding="utf-8", errors="replace") as entrada:
            for linha in entrada:
                try:
                    pedidos.append(otlp.de_json(sinal, linha))
                except Exception as erro:  # qualquer erro de uma linha é dela, não do arquivo
                    if ilegiveis is not None and linha.endswith("\n"):
                        ilegiveis.append(f"{caminho.name}: {type(erro).__name__}: {str(erro)[:100]}")
    return pedidos


def itens(sinal: str, pasta: Path | None = None, ilegiveis: list | None = None) -> list[dict]:
    """Spans, métricas ou logs gravados, achatados como em `otlp.spans()` etc."""
    saida = []
    for pedido in ler(sinal, pasta, ilegiveis):
        try:
            saida += otlp.ACHATAR[sinal](pedido)
        except Exception as erro:
            if ilegiveis is not None:
                ilegiveis.append(f"{type(erro).__name__}: {str(erro)[:100]}")
    return saida
