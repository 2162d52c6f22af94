"""O HTTP/1.1 do receptor OTLP: qualquer processo da máquina pode conectar, então nada é confiado.

Por que não o `http.server` da biblioteca padrão: ele dá uma thread a cada conexão,
sem limite e sem prazo — 2000 conexões que nunca terminam o pedido seguram 1800
threads e esgotam os descritores de arquivo; `Content-Length: -1` prende uma
thread para sempre; a fila de espera do listen() é 5 (de 300 exportadores ao
mesmo tempo, ~5% levam reset). Aqui, um laço asyncio numa thread só cuida de
todas as conexões (esperar o cliente não custa uma thread), com prazos para o
cabeçalho, o corpo e a conexão ociosa; o trabalho de verdade (descomprimir,
decodificar, gravar) vai para UM trabalhador, então a memória desse trabalho é
a de um pedido por vez — com o GIL, mais threads não dariam mais CPU mesmo.

Limites (`Limites`): tamanho do corpo (antes e depois de descomprimir), do
cabeçalho, número de conexões (no limite, a que espera o cliente há mais tempo
é fechada para dar lugar à nova) e bytes de corpos em memória ao mesmo tempo.
"""
import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Callable

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limites:
    corpo: int = 8 * MiB  # o Content-Length, como chega (comprimido ou não)
    descomprimido: int = 16 * MiB  # protobuf depois de descomprimir (= um arquivo do armazém)
    json: int = 4 * MiB  # OTLP/JSON: o json.loads ocupa até ~20× o tamanho do texto
    cabecalhos: int = 16 * 1024
    tempo_cabecalhos: float = 10.0  # do primeiro byte ao fim do cabeçalho
    tempo_corpo: float = 30.0  # para chegar o corpo inteiro (e para a resposta sair)
    ocioso: float = 60.0  # conexão keep-alive sem pedido
    conexoes: int = 512  # abaixo do limite comum de 1024 descritores de arquivo
    fila: int = 512  # listen(): os exportadores chegam em rajadas
    em_memoria: int = 64 * MiB  # soma dos corpos lidos e ainda não respondidos


@dataclass
class Pedido:
    metodo: str
    caminho: str
    cabecalhos: dict[str, str]  # nomes em minúsculas
    corpo: bytes
    cliente: str


@dataclass
class Resposta:
    status: int
    tipo: str
    corpo: bytes
    cabecalhos: dict[str, str] = field(default_factory=dict)


class _Recusa(Exception):
    """Um pedido recusado antes de chegar à rota (caminho, tamanho, prazo...)."""

    def __init__(self, status: int, mensagem: str, cabecalhos: dict | None = None, **extras):
        super().__init__(mensagem)
        self.status, self.cabecalhos, self.extras = status, cabecalhos or {}, extras


class _Orcamento:
    """Bytes de corpo em memória, somando todas as conexões. Reservado conforme o corpo CHEGA (um
    cliente que anuncia 8 MiB e não manda nada não segura nada) e devolvido depois da resposta."""

    def __init__(self, total: int):
        self.livre = total
        self._mudou = asyncio.Condition()

    async def reservar(self, n: int) -> None:
        async with self._mudou:
            await self._mudou.wait_for(lambda: self.livre >= n)
            self.livre -= n

    async def devolver(self, n: int) -> None:
        async with self._mudou:
            self.livre += n
            self._mudou.notify_all()


class ServidorHTTP:
    """`ServidorHTTP(porta, rotas={"/v1/traces": f}, erro=g).iniciar()`: cada POST num caminho
    exato vira `f(Pedido) -> Resposta`, chamada no trabalhador; as recusas do transporte (404,
    411, 413, 408...) são formatadas por `erro(status, mensagem, cabecalhos) -> Resposta`."""

    def __init__(self, porta: int, rotas: dict[str, Callable[[Pedido], Resposta]],
                 erro: Callable[[int, str, dict], Resposta], limites: Limites = Limites(),
                 avisar: Callable[[str], None] = print, host: str = "127.0.0.1"):
        self.host, self.porta = host, porta
        self.rotas, self.erro, self.limites, self.avisar = rotas, erro, limites, avisar
        self._laco: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._trabalhador = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receptor-otlp-http")
        self._esperando: dict = {}  # writer → desde quando espera o cliente (ordem de chegada)
        self._conexoes: set = set()

    # --- ciclo de vida ------------------------------------------------------------------
    def iniciar(self) -> "ServidorHTTP":
        pronto = threading.Event()
        falha: list[BaseException] = []

        def rodar():
            self._laco = asyncio.new_event_loop()
            self._laco.set_exception_handler(
                lambda _, contexto: self.avisar(f"asyncio: {contexto.get('exception') or contexto['message']}"))
            try:
                self._servidor = self._laco.run_until_complete(asyncio.start_server(
                    self._conexao, self.host, self.porta, backlog=self.limites.fila, limit=self.limites.cabecalhos))
                self._orcamento = _Orcamento(self.limites.em_memoria)
            except BaseException as erro:
                falha.append(erro)
                pronto.set()
                return
            self.porta = self._servidor.sockets[0].getsockname()[1]
            pronto.set()
            self._laco.run_forever()
            self._laco.close()

        self._thread = threading.Thread(target=rodar, name="receptor-otlp-http", daemon=True)
        self._thread.start()
        pronto.wait()
        if falha:
            raise falha[0]
        return self

    def parar(self) -> None:
        if not self._laco or not self._thread.is_alive():
            return

        async def fechar():
            self._servidor.close()
            for writer in list(self._conexoes):
                writer.transport.abort()
            tarefas = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for tarefa in tarefas:
                tarefa.cancel()
            await asyncio.gather(*tarefas, return_exceptions=True)
            self._laco.stop()

        asyncio.run_coroutine_threadsafe(fechar(), self._laco)
        self._thread.join(timeout=5)
        self._trabalhador.shutdown(wait=False, cancel_futures=True)

    # --- uma conexão ------------------------------------------------------------------------
    async def _conexao(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._conexoes) >= self.limites.conexoes and not self._abrir_espaco():
            writer.transport.abort()  # todas trabalhando: a nova tenta de novo (o exportador tenta)
            return
        self._conexoes.add(writer)
        cliente = "%s:%s" % (writer.get_extra_info("peername") or ("?", "?"))[:2]
        try:
            while await self._um_pedido(reader, writer, cliente):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception as erro:  # um defeito aqui: uma linha, e as outras conexões seguem
            self.avisar(f"erro interno com {cliente}: {type(erro).__name__}: {erro}")
        finally:
            self._esperando.pop(writer, None)
            self._conexoes.discard(writer)
            writer.transport.abort()

    def _abrir_espaco(self) -> bool:
        """No limite de conexões, fecha a que espera o cliente há mais tempo (quem segura uma
        conexão sem mandar nada perde para quem chega com um pedido)."""
        if not self._esperando:
            return False
        mais_antiga = next(iter(self._esperando))
        self._esperando.pop(mais_antiga)
        self._conexoes.discard(mais_antiga)
        mais_antiga.transport.abort()
        return True

    async def _um_pedido(self, reader, writer, cliente: str) -> bool:
        """Lê, atende e responde um pedido; devolve se a conexão continua (keep-alive)."""
        limites = self.limites
        self._esperando[writer] = time.monotonic()
        cabecalhos: dict[str, str] = {}
        try:
            try:
                primeiro = await asyncio.wait_for(reader.read(1), limites.ocioso)
            except TimeoutError:
                return False  # ociosa: fecha calada, como qualquer servidor HTTP
            if not primeiro:
                return False
            try:
                cabeca = primeiro + await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), limites.tempo_cabecalhos)
            except TimeoutError:
                raise _Recusa(408, "cabeçalho não chegou a tempo", silenciosa=True)
            except asyncio.LimitOverrunError:
                raise _Recusa(431, f"cabeçalho passa de {limites.cabecalhos} bytes")
            metodo, caminho, versao, cabecalhos = _analisar(cabeca)
            if caminho.split("?", 1)[0] not in self.rotas:
                raise _Recusa(404, f"caminho {caminho[:80]!r}: use {', '.join(self.rotas)}")
            if metodo != "POST":
                raise _Recusa(405, f"método {metodo}: use POST", {"Allow": "POST"})
            tamanho = _tamanho(cabecalhos, limites.corpo)
            if cabecalhos.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            corpo = await self._ler_corpo(reader, tamanho)
        except _Recusa as recusa:
            if not recusa.extras.get("silenciosa"):
                self.avisar(f"{recusa.status} de {cliente}: {recusa}")
            # O corpo (se havia) não foi lido: a conexão não serve para o próximo pedido.
            await self._responder(writer, self.erro(recusa.status, str(recusa), cabecalhos), recusa.cabecalhos,
                                  fechar=True)
            return False
        finally:
            self._esperando.pop(writer, None)
        try:
            pedido = Pedido(metodo, caminho.split("?", 1)[0], cabecalhos, corpo, cliente)
            try:
                resposta = await asyncio.get_running_loop().run_in_executor(
                    self._trabalhador, self.rotas[pedido.caminho], pedido)
            except Exception as erro:
                self.avisar(f"erro interno em {pedido.caminho}: {type(erro).__name__}: {erro}")
                resposta = self.erro(500, "erro interno do receptor", cabecalhos)
        finally:
            await self._orcamento.devolver(len(corpo))
        fechar = cabecalhos.get("connection", "").lower() == "close" or (
            versao == "HTTP/1.0" and cabecalhos.get("connection", "").lower() != "keep-alive")
        await self._responder(writer, resposta, {}, fechar)
        return not fechar

    async def _ler_corpo(self, reader, tamanho: int) -> bytes:
        corpo = bytearray()
        esperando_memoria = False

        async def ler():
            nonlocal esperando_memoria
            while len(corpo) < tamanho:
                pedaco = await reader.read(min(64 * 1024, tamanho - len(corpo)))
                if not pedaco:
                    raise asyncio.IncompleteReadError(bytes(corpo), tamanho)
                esperando_memoria = True
                await self._orcamento.reservar(len(pedaco))
                esperando_memoria = False
                corpo.extend(pedaco)

        try:
            await asyncio.wait_for(ler(), self.limites.tempo_corpo)
        except BaseException as erro:
            await self._orcamento.devolver(len(corpo))
            if isinstance(erro, TimeoutError):
                if esperando_memoria:
                    raise _Recusa(503, "receptor ocupado: tente de novo", {"Retry-After": "1"})
                raise _Recusa(408, "corpo não chegou a tempo", silenciosa=True)
            raise
        return bytes(corpo)

    async def _responder(self, writer, resposta: Resposta, extras: dict, fechar: bool) -> None:
        cabecalhos = {"Content-Type": resposta.tipo, "Content-Length": str(len(resposta.corpo)),
                      **resposta.cabecalhos, **extras}
        if fechar:
            cabecalhos["Connection"] = "close"
        motivo = HTTPStatus(resposta.status).phrase
        cabeca = f"HTTP/1.1 {resposta.status} {motivo}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in cabecalhos.items())
        writer.write(cabeca.encode("latin-1") + b"\r\n" + resposta.corpo)
        try:
            await asyncio.wait_for(writer.drain(), self.limites.tempo_corpo)
        except TimeoutError:  # quem não lê a resposta também não segura a conexão
            writer.transport.abort()


def _analisar(cabeca: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        linhas = cabeca.decode("latin-1").split("\r\n")
        metodo, caminho, versao = linhas[0].split(" ")
    except ValueError:
        raise _Recusa(400, "linha de pedido HTTP inválida") from None
    if versao not in ("HTTP/1.0", "HTTP/1.1"):
        raise _Recusa(400, f"versão {versao[:20]!r}: use HTTP/1.1")
    cabecalhos: dict[str, str] = {}
    for linha in filter(None, linhas[1:]):
        nome, dois_pontos, valor = linha.partition(":")
        if not dois_pontos or not nome or nome != nome.strip():
            raise _Recusa(400, "linha de cabeçalho inválida")
        nome, valor = nome.lower(), valor.strip()
        if nome == "content-length" and cabecalhos.get(nome, valor) != valor:
            raise _Recusa(400, "Content-Length repetido com valores diferentes")
        cabecalhos[nome] = valor
    return metodo, caminho, versao, cabecalhos


def _tamanho(cabecalhos: dict[str, str], limite: int) -> int:
    if "transfer-encoding" in cabecalhos:
        raise _Recusa(411, "Transfer-Encoding não é aceito: mande o Content-Length")
    valor = cabecalhos.get("content-length")
    if valor is None:
        raise _Recusa(411, "falta o Content-Length")
    if not (valor.isascii() and valor.isdigit()):
        raise _Recusa(400, f"Content-Length inválido: {valor[:20]!r}")
    if len(valor) > 12 or int(valor) > limite:
        raise _Recusa(413, f"corpo de {valor[:20]} bytes passa do limite de {limite}")
    return int(valor)
