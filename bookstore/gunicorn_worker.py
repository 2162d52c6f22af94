"""O worker do gunicorn dos três serviços: o `sync` de sempre, com erros de protocolo em JSON.

Alguns pedidos nem chegam ao Flask: o gunicorn os recusa ao ler a requisição
(linha de requisição longa demais, cabeçalho grande demais, cabeçalho malformado)
e responde com uma página HTML. O contrato diz que todo erro é JSON — um aluno
que manda uma Idempotency-Key de 10 000 bytes deve ler o porquê em pt-BR.
Subclassar o worker é a extensão que o gunicorn oferece para isso (`worker_class`);
os demais erros seguem o caminho do gunicorn.
"""
import json

from gunicorn.http.errors import (InvalidHeader, InvalidHeaderName, InvalidHTTPVersion, InvalidRequestLine,
                                  InvalidRequestMethod, LimitRequestHeaders, LimitRequestLine)
from gunicorn.workers.sync import SyncWorker

# exceção do gunicorn → (status, frase, mensagem em pt-BR)
RESPOSTAS = {
    LimitRequestLine: (414, "URI Too Long", "linha de requisição longa demais (limite: {linha} bytes)"),
    LimitRequestHeaders: (431, "Request Header Fields Too Large",
                          "cabeçalhos grandes demais (limite: {campo} bytes por cabeçalho, {campos} cabeçalhos)"),
    InvalidHeader: (400, "Bad Request", "requisição HTTP malformada: cabeçalho inválido"),
    InvalidHeaderName: (400, "Bad Request", "requisição HTTP malformada: nome de cabeçalho inválido"),
    InvalidRequestLine: (400, "Bad Request", "requisição HTTP malformada: linha de requisição inválida"),
    InvalidRequestMethod: (400, "Bad Request", "requisição HTTP malformada: método inválido"),
    InvalidHTTPVersion: (400, "Bad Request", "requisição HTTP malformada: versão do HTTP inválida"),
}


# O master manda SIGABRT ao worker que passou de GUNICORN_TIMEOUT numa requisição; o worker sai
# com SystemExit no meio dela, e o gunicorn responderia a página HTML "500 Internal Server Error".
INTERROMPIDA = (503, "Service Unavailable",
                "o servidor interrompeu a requisição: ela passou de {timeout} s (GUNICORN_TIMEOUT) e o worker "
                "foi reiniciado")


class WorkerComErrosJSON(SyncWorker):
    def handle_error(self, req, client, addr, exc):
        resposta = next((r for tipo, r in RESPOSTAS.items() if isinstance(exc, tipo)), None)
        if isinstance(exc, SystemExit):
            resposta = INTERROMPIDA
        if resposta is None:
            return super().handle_error(req, client, addr, exc)
        status, frase, mensagem = resposta
        mensagem = mensagem.format(linha=self.cfg.limit_request_line, campo=self.cfg.limit_request_field_size,
                                   campos=self.cfg.limit_request_fields, timeout=self.cfg.timeout)
        self.log.warning("requisição respondida pelo gunicorn (%s): %s", status, exc or type(exc).__name__)
        corpo = json.dumps({"erro": mensagem}, ensure_ascii=False).encode()
        cabecalho = (f"HTTP/1.1 {status} {frase}\r\nConnection: close\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(corpo)}\r\n\r\n").encode("latin-1")
        try:
            client.sendall(cabecalho + corpo)
        except OSError:
            pass  # o cliente já foi embora
