"""Toda a configuração do laboratório: uma tabela das variáveis de ambiente e a leitura delas.

Cada variável está declarada uma vez, em VARIAVEIS: nome, tipo, padrão, mínimo, quem a
lê e o que faz. Todo o código lê pelo `ler(nome)`, que converte e valida: um valor
inválido para o processo no arranque com uma mensagem clara, em vez de falhar mais
tarde no meio de uma compra. A tabela do README é esta mesma, impressa por
`python -m bookstore.config` (um teste confere que as duas são iguais).

As variáveis OTEL_* padrão do OpenTelemetry (endpoint, lotes, amostragem) são lidas
pelo próprio SDK e estão em `otel.env`; aqui ficam só as que o código do laboratório lê.
"""
import os
import re
import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from . import topologia

RAIZ = Path(__file__).resolve().parent.parent  # a raiz do projeto
VERSAO = "1.0.0"  # service.version de todos os serviços


class ConfiguracaoInvalida(RuntimeError):
    pass


@dataclass(frozen=True)
class Variavel:
    nome: str
    tipo: str           # texto, inteiro, segundos, decimal, booleano, lista
    padrao: object      # None: sem padrão (quem lê decide)
    quem_le: str
    significado: str
    minimo: float = 0
    padrao_no_readme: str | None = None  # quando o padrão depende de onde roda

    def texto_do_padrao(self) -> str:
        if self.padrao_no_readme is not None:
            return self.padrao_no_readme
        if self.padrao is None or self.padrao == "" or self.padrao == ():
            return "—"
        if isinstance(self.padrao, bool):
            return f"`{str(self.padrao).lower()}`"
        if isinstance(self.padrao, tuple):
            return f"`{','.join(map(str, self.padrao))}`"
        return f"`{self.padrao}`"


SERVICOS = "serviços"
_portas = [Variavel(p.variavel, "inteiro", p.porta, "make local, ferramentas",
                    f"porta de {p.nome} no modo local", minimo=1) for p in topologia.PROCESSOS.values()]
# Variáveis só de um serviço, por cima de otel.env e do ambiente — como o `environment:` de um serviço no
# compose. O exercício 12 dá a livros outra amostragem (cada equipe escolhendo a sua).
_por_servico = [Variavel(p.variavel_ambiente, "lista", (), "make local",
                         f"variáveis só de {p.nome}, por cima de `otel.env` (ex.: `OTEL_TRACES_SAMPLER_ARG=0.6`; "
                         "várias separadas por vírgula)") for p in topologia.SERVICOS_DO_LAB]
_urls = [Variavel(p.variavel_url, "texto", None, "autoteste, make diagnostico",
                  f"URL de {p.nome}, se não for 127.0.0.1:<porta>") for p in topologia.PROCESSOS.values()
         if p.variavel_url]
# Lidas pelo gateway/Caddyfile ({$GATEWAY_LIVROS}…); o `make local` as preenche com a topologia.
_gateway = [Variavel(f"GATEWAY_{p.nome.upper()}", "texto", None, "gateway", f"as réplicas de {p.nome} que o gateway "
                     "balanceia, `host:porta` separados por espaço", padrao_no_readme="a topologia (make local)")
            for p in topologia.SERVICOS_DO_LAB]

# Os endereços da pilha de telemetria, lidos pelas configs do Collector e do Jaeger (`${env:NOME:-padrão}`).
# O padrão é o endereço do compose, escrito só no arquivo da config; o `make local` com a pilha real
# (modo_local/pilha_real.py) define cada um com uma porta de 127.0.0.1. Daqui, a tabela do README.
CONFIGS_DA_PILHA = ("otel-collector/config.yaml", "jaeger/config.yaml")
_REFERENCIA = re.compile(r"\$\{env:([A-Z0-9_]+):-([^}]*)\}")


def variaveis_da_config(arquivo: str) -> dict[str, tuple[str, str]]:
    """{NOME: (chave.completa.no.yaml, padrão)} de cada `${env:NOME:-padrão}` do arquivo (sem o PyYAML,
    que a imagem dos serviços não tem: o caminho vem do recuo de cada linha)."""
    achadas, caminho = {}, []  # caminho: [(recuo, chave), …] das chaves abertas acima da linha
    if not (RAIZ / arquivo).exists():  # na imagem de um serviço (só bookstore/ e ele): nada a declarar
        return achadas
    for linha in (RAIZ / arquivo).read_text(encoding="utf-8").splitlines():
        texto = linha.split(" #")[0].rstrip()
        if not texto.strip() or texto.lstrip().startswith("#") or ":" not in texto:
            continue
        recuo = len(texto) - len(texto.lstrip(" -"))
        chave = texto.strip(" -").split(":", 1)[0]
        caminho = [(r, c) for r, c in caminho if r < recuo] + [(recuo, chave)]
        for nome, padrao in _REFERENCIA.findall(texto):
            achadas[nome] = (".".join(c for _, c in caminho), padrao)
    return achadas


_pilha = [Variavel(nome, "texto", None, f"`{arquivo}`", f"`{chave}` (no `make local` com a pilha real: 127.0.0.1)",
                   padrao_no_readme=f"`{padrao}` (o do compose)")
          for arquivo in CONFIGS_DA_PILHA for nome, (chave, padrao) in variaveis_da_config(arquivo).items()]

VARIAVEIS = {variavel.nome: variavel for variavel in [
    # Todos os serviços
    Variavel("DATABASE_URL", "texto", None, SERVICOS, "banco do serviço",
             padrao_no_readme="`postgresql://postgres@127.0.0.1:5432/<serviço>`"),
    Variavel("SERVICO", "texto", None, "imagem Docker", "qual serviço a imagem roda (argumento de build)"),
    Variavel("HOST", "texto", "127.0.0.1", "serviços, gateway", "onde o gunicorn escuta (`0.0.0.0` no contêiner)"),
    Variavel("PORT", "inteiro", None, "serviços, gateway", "porta do gunicorn (ou do gateway)", minimo=1,
             padrao_no_readme="a do serviço (" + ", ".join(str(p.porta) for p in topologia.SERVICOS_DO_LAB) + ")"),
    Variavel("WEB_CONCURRENCY", "inteiro", 2, SERVICOS, "workers (processos) do gunicorn", minimo=1),
    Variavel("GUNICORN_TIMEOUT", "inteiro", 30, SERVICOS, "segundos até o gunicorn matar uma requisição presa",
             minimo=1),
    Variavel("GUNICORN_LOGLEVEL", "texto", "info", SERVICOS, "nível do log do próprio gunicorn"),
    Variavel("DB_POOL_MAXIMO", "inteiro", 5, SERVICOS, "conexões por worker", minimo=1),
    Variavel("DB_POOL_ESPERA_SEGUNDOS", "inteiro", 5, SERVICOS, "espera por conexão livre antes de 503", minimo=1),
    Variavel("DB_ESPERA_SEGUNDOS", "inteiro", 30, SERVICOS, "quanto esperar o banco no arranque"),
    Variavel("ADMIN_HABILITADO", "booleano", False, SERVICOS, "liga `/admin/*`",
             padrao_no_readme="`false` (`true` no compose e no `make local`)"),
    Variavel("FALHA_LATENCIA_MS", "inteiro", 0, SERVICOS, "latência injetada padrão"),
    Variavel("FALHA_TAXA_ERRO", "decimal", "0", SERVICOS, "fração de erros injetados padrão"),
    Variavel("LOG_LEVEL", "texto", "INFO", SERVICOS, "nível do log"),
    Variavel("OTEL_SDK_DISABLED", "texto", "false", SERVICOS, "`true`: nenhuma telemetria é gravada (padrão OTel)"),
    Variavel("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "texto", "", SERVICOS,
             "`flask,requests,psycopg,logging` (ou `*`): não instala essas instrumentações"),
    Variavel("OTEL_PYTHON_FLASK_EXCLUDED_URLS", "texto", "", SERVICOS, "URLs sem span, além de /health e /ready"),
    Variavel("OTEL_EXPORTER_OTLP_PROTOCOL", "texto", "http/protobuf", SERVICOS,
             "`http/protobuf` ou `grpc` (os outros OTEL_* estão em `otel.env`)"),
    *(Variavel(f"OTEL_EXPORTER_OTLP_{sinal}_PROTOCOL", "texto", None, SERVICOS,
               f"o protocolo só dos {nome}, por cima do geral") for sinal, nome in
      (("TRACES", "traces"), ("METRICS", "métricas"), ("LOGS", "logs"))),
    Variavel("OTEL_EXPORTER_OTLP_ENDPOINT", "texto", None, "serviços, make local",
             "para onde vai a telemetria; no `make local`, liga o modo híbrido"),
    Variavel("OTEL_BSP_SCHEDULE_DELAY", "inteiro", 5000, "serviços, make bench, quem lê a telemetria",
             "ms entre dois lotes de spans (o laboratório usa 1000, em `otel.env`)"),
    Variavel("OTEL_TRACES_SAMPLER", "texto", None, "serviços, autoteste 12",
             "amostrador (o laboratório usa `parentbased_always_on`, em `otel.env`)"),
    Variavel("OTEL_METRIC_EXPORT_INTERVAL", "inteiro", 60000, "serviços, quem lê a telemetria",
             "ms entre duas exportações de métricas (o laboratório usa 10000, em `otel.env`)"),
    # Um serviço só
    Variavel("RESERVA_TTL_SEGUNDOS", "inteiro", 1800, "livros", "vida de uma reserva", minimo=1),
    Variavel("CATALOGO_INICIAL", "booleano", True, "livros", "carrega 10 livros no primeiro arranque"),
    Variavel("PAGAMENTO_LIMITE", "decimal", "5000.00", "pagamentos", "acima disso, recusado"),
    Variavel("LIVROS_URL", "texto", None, "ordens, make carga", "onde está livros",
             padrao_no_readme=f"`http://127.0.0.1:{topologia.PROCESSOS['livros'].porta}`"),
    Variavel("PAGAMENTOS_URL", "texto", None, "ordens", "onde está pagamentos",
             padrao_no_readme=f"`http://127.0.0.1:{topologia.PROCESSOS['pagamentos'].porta}`"),
    Variavel("ORDENS_URL", "texto", None, "make carga", "onde está ordens",
             padrao_no_readme=f"`http://127.0.0.1:{topologia.PROCESSOS['ordens'].porta}`"),
    Variavel("LIVROS_TIMEOUT_SEGUNDOS", "segundos", 5.0, "ordens", "timeout de leitura (conexão: 2 s)"),
    Variavel("PAGAMENTOS_TIMEOUT_SEGUNDOS", "segundos", 5.0, "ordens", "timeout de leitura (conexão: 2 s)"),
    Variavel("ORDENS_RECUPERACAO_INTERVALO_SEGUNDOS", "segundos", 10.0, "ordens",
             "período da passada de recuperação"),
    Variavel("ORDENS_ABANDONO_SEGUNDOS", "segundos", 60.0, "ordens", "ordem parada há mais que isso é desfeita"),
    Variavel("ORDENS_RECUPERACAO_AUTOMATICA", "booleano", True, "ordens",
             "roda a recuperação numa thread de cada worker"),
    # A compra por mensagens: bookstore/mensageria/
    Variavel("ORDENS_SAGA", "texto", "http", "ordens, make local, make caos",
             "`http`: a saga síncrona; `mensagens`: a compra pelo RabbitMQ (202 e GET /ordens/{id})"),
    Variavel("RABBITMQ_URL", "texto", None, "mensageiros",
             "o broker (AMQP) da compra por mensagens, com o usuário do serviço (o `make local` e o compose dão a "
             "cada mensageiro a sua; bookstore/mensageria/acessos.py)"),
    Variavel("RABBITMQ_SENHA_ARQUIVO", "texto", None, "mensageiros",
             "arquivo com a senha do usuário do serviço no broker, no lugar da que vem na RABBITMQ_URL (o compose)"),
    Variavel("CARTAO_CHAVE_PUBLICA", "texto", None, "ordens",
             "arquivo PEM da chave pública de pagamentos: com ORDENS_SAGA=mensagens, ordens sela o número do cartão "
             "com ela (bookstore/cartao.py; o `make local` e o compose geram o par)"),
    Variavel("CARTAO_CHAVE_PRIVADA", "texto", None, "mensageiro de pagamentos",
             "arquivo PEM da chave privada que abre o cartão selado"),
    Variavel("MENSAGENS_SO_LINKS", "booleano", False, "mensageiros",
             "`true`: o span `process` só tem link para o `send` (sem pai): cada fila começa um trace"),
    Variavel("MENSAGENS_TENTATIVAS", "inteiro", 5, "mensageiros",
             "entregas de uma mensagem que falha antes de ela ir para a fila de mortas (`<fila>.dlq`)", minimo=1),
    Variavel("MENSAGENS_GUARDAR_SEGUNDOS", "segundos", 3600.0, "mensageiros",
             "por quanto tempo a outbox (já publicada) e a inbox guardam uma mensagem para reconhecer uma entrega "
             "repetida (bookstore/mensageria/limpeza.py)", minimo=1),
    Variavel("MENSAGEIROS", "inteiro", 1, "make local", "consumidores (processos) de cada fila com ORDENS_SAGA=mensagens",
             minimo=1),
    # O lançador e as ferramentas
    Variavel("POSTGRES_URL", "texto", None, "make local, make test", "um PostgreSQL existente em vez do embutido"),
    Variavel("MANTER_DADOS", "booleano", False, "make local", "guarda bancos e telemetria em `.dados-locais/`"),
    Variavel("ZERO_CODE", "lista", (), "make local",
             "serviços que rodam sob o `opentelemetry-instrument` (exercício 03)"),
    Variavel("GATEWAY", "booleano", False, "make local",
             "`true`: o gateway (Caddy) em 8080 na frente de REPLICAS instâncias de cada serviço"),
    Variavel("REPLICAS", "inteiro", 2, "make local", "instâncias de cada serviço com GATEWAY=true", minimo=1),
    *_gateway,
    Variavel("GATEWAY_SOCKETS", "texto", "/tmp", "gateway", "pasta dos sockets internos do gateway (um por serviço)"),
    Variavel("BASE_URL", "texto", None, "make carga, cenarios.sh",
             "uma URL para tudo, no lugar de LIVROS_URL e ORDENS_URL (ex.: o gateway, "
             f"`http://127.0.0.1:{topologia.PROCESSOS['gateway'].porta}`)"),
    *_por_servico,
    *_portas,
    Variavel("TELEMETRIA_LOCAL_PASTA", "texto", None, "make local, make traces, autoteste",
             "onde o receptor local grava", padrao_no_readme="`.telemetria/`"),
    *_urls,
    Variavel("PILHA", "texto", "auto", "make local",
             "`real`: Collector, Jaeger e Prometheus de `.ferramentas/bin/` (`make ferramentas`); `receptor`: o "
             "receptor OTLP local; `auto`: a pilha real se os binários estão lá"),
    *_pilha,
    Variavel("CHROMIUM", "texto", None, "testes do navegador, make capturas",
             "o Chromium que o Playwright dirige", padrao_no_readme="o `chromium` do PATH"),
    Variavel("BENCH_COMPRAS", "inteiro", 300, "make bench", "compras por carga", minimo=1),
    Variavel("BENCH_CONCORRENCIA", "lista", ("1", "8"), "make bench", "clientes simultâneos de cada carga"),
    Variavel("BENCH_RODADAS", "inteiro", 6, "make bench", "rodadas alternadas entre os modos", minimo=1),
    Variavel("BENCH_AQUECIMENTO", "inteiro", 40, "make bench", "compras de aquecimento antes de medir"),
    Variavel("BENCH_PASTA", "texto", None, "make bench, autoteste 16", "onde as medições ficam",
             padrao_no_readme="`.bench/`"),
    Variavel("BENCH_AMOSTRAGEM", "texto", None, "make bench",
             "uma coluna a mais, guardando esta fração dos traces (ex.: 0.1)"),
    Variavel("BENCH_SO_A_CARGA", "booleano", False, "make bench", "pula o custo de cada peça (a suíte usa)"),
    Variavel("BENCH_REPETICOES", "inteiro", 2000, "make bench", "repetições de cada peça medida isolada",
             minimo=1),
    Variavel("PERFIL_SEGUNDOS", "inteiro", 30, "make perfil", "duração da amostragem do py-spy", minimo=1),
    Variavel("CAOS_SEGUNDOS", "segundos", 60.0, "make caos", "duração das compras sob falhas"),
    Variavel("CAOS_SEMENTE", "inteiro", 20261124, "make caos", "semente do cronograma de falhas"),
]}


def _numero(nome: str, bruto: str, converter, descricao: str, minimo):
    try:
        valor = converter(bruto)
    except (ValueError, InvalidOperation):
        raise ConfiguracaoInvalida(f"{nome}={bruto!r} não é {descricao}") from None
    if valor < minimo:
        raise ConfiguracaoInvalida(f"{nome}={valor} deve ser >= {minimo}")
    return valor


def _converter(variavel: Variavel, bruto: str):
    tipo, nome = variavel.tipo, variavel.nome
    if tipo == "texto":
        return bruto
    if tipo == "inteiro":
        return _numero(nome, bruto, int, "um número inteiro", variavel.minimo)
    if tipo == "segundos":  # durações (timeouts, intervalos); aceita frações, como 0.5
        return _numero(nome, bruto, float, "um número de segundos", variavel.minimo)
    if tipo == "decimal":
        return _numero(nome, bruto, Decimal, "um número", variavel.minimo)
    if tipo == "booleano":
        return bruto.strip().lower() in {"1", "true", "sim", "yes", "on"}
    if tipo == "lista":
        return tuple(item.strip() for item in bruto.split(",") if item.strip())
    raise AssertionError(f"tipo desconhecido na tabela: {tipo}")


def ler(nome: str):
    """O valor da variável, convertido e validado; vazia ou ausente dá o padrão da tabela."""
    variavel = VARIAVEIS[nome]
    bruto = os.environ.get(nome)
    if bruto is None or bruto == "":
        return Decimal(variavel.padrao) if variavel.tipo == "decimal" else variavel.padrao
    return _converter(variavel, bruto)


def definida(nome: str) -> bool:
    """A pessoa definiu a variável (mesmo com o valor padrão)? Para quem tem outro padrão que o da
    tabela quando ela não vem (o `make local` liga ADMIN_HABILITADO, que os serviços deixam desligado)."""
    assert nome in VARIAVEIS, nome
    return bool(os.environ.get(nome))


# As portas e URLs dos processos da topologia, como o ambiente as define agora.
def porta(nome: str) -> int:
    """A porta em uso: a da variável do processo (PORTA_LIVROS…), se definida, senão a padrão."""
    return ler(topologia.PROCESSOS[nome].variavel)


def url(nome: str) -> str:
    """http://127.0.0.1:<porta> do processo (ou a URL da variavel_url, se definida)."""
    processo = topologia.PROCESSOS[nome]
    definida_pela_pessoa = ler(processo.variavel_url) if processo.variavel_url else None
    return definida_pela_pessoa.rstrip("/") if definida_pela_pessoa else f"http://127.0.0.1:{porta(nome)}"


def portas_das_replicas(nome: str, replicas: int) -> list[int]:
    """As portas das `replicas` instâncias de um serviço (a primeira é a porta do serviço)."""
    return [porta(nome) + topologia.DESLOCAMENTO_DAS_REPLICAS * k for k in range(replicas)]


def portas_do_ambiente(nomes=topologia.SERVICOS) -> dict[str, int]:
    return {nome: porta(nome) for nome in nomes}


ARQUIVO_OTEL = RAIZ / "otel.env"


def variaveis_do_otel_env() -> dict[str, str]:
    """As variáveis OTEL_* de otel.env, como o compose as entrega aos serviços (`env_file`). Quem as
    aplica põe o ambiente de quem chama por cima, como no `environment:` do compose."""
    variaveis = {}
    for linha in ARQUIVO_OTEL.read_text(encoding="utf-8").splitlines():
        linha = linha.strip()
        if linha and not linha.startswith("#"):
            nome, _, valor = linha.partition("=")
            variaveis[nome.strip()] = valor.strip()
    return variaveis


def tabela_markdown() -> str:
    """A tabela das variáveis como o README a mostra."""
    linhas = ["| variável | quem lê | padrão | para quê |", "|---|---|---|---|"]
    for variavel in VARIAVEIS.values():
        linhas.append(f"| `{variavel.nome}` | {variavel.quem_le} | {variavel.texto_do_padrao()} "
                      f"| {variavel.significado} |")
    return "\n".join(linhas)


if __name__ == "__main__":
    sys.stdout.write(tabela_markdown() + "\n")
