"""A topologia do laboratório: os processos, as portas e a ordem em que sobem.

O único lugar do código em que uma porta ou a lista de serviços está escrita. O
lançador (`modo_local`), as ferramentas, os autotestes e os testes leem daqui; a
documentação e o `docker-compose.yml` repetem os números para o aluno ler, e um teste
(`tests/test_topologia.py`) confere que nenhum outro módulo os escreve de novo.
Acrescentar um processo ao laboratório é acrescentar uma entrada em PROCESSOS.

As portas padrão são as do contrato (livros 8081, ordens 8082, pagamentos 8083) e as
do Collector, do Jaeger e do Prometheus no compose. No modo local cada uma muda com a
variável `variavel` (portas ocupadas na máquina do aluno, testes em portas livres): a
porta e a URL em uso são lidas por `bookstore.config` (`config.porta`, `config.url`). Este
módulo é só dado — não lê o ambiente nem importa ninguém do laboratório.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Processo:
    nome: str                       # o service.name, e o nome do serviço no compose
    porta: int                      # a padrão
    pronto: str | None              # GET que responde 200 quando o processo está pronto
    como_sobe: str                  # para quem lê: o comando ou quem o sobe
    variavel_url: str | None = None  # uma URL inteira que substitui 127.0.0.1:<porta>
    depende_de: tuple[str, ...] = ()  # quem precisa estar pronto antes (a ordem de subida)
    so_no_make_local: bool = False  # sem serviço no compose (o visualizador de traces: lá, a interface do Jaeger)

    @property
    def variavel(self) -> str:
        """A variável que troca a porta: PORTA_LIVROS, PORTA_OTLP_HTTP…"""
        return "PORTA_" + self.nome.upper().replace("-", "_")

    @property
    def variavel_ambiente(self) -> str:
        """A variável com o ambiente só deste serviço no make local: AMBIENTE_LIVROS…"""
        return "AMBIENTE_" + self.nome.upper().replace("-", "_")


# Os serviços, na ordem do contrato; ordens chama os outros dois, então sobe depois deles.
SERVICOS_DO_LAB = (
    Processo("livros", 8081, "/ready", "gunicorn --config livros/gunicorn.conf.py"),
    Processo("ordens", 8082, "/ready", "gunicorn --config ordens/gunicorn.conf.py",
             depende_de=("livros", "pagamentos")),
    Processo("pagamentos", 8083, "/ready", "gunicorn --config pagamentos/gunicorn.conf.py"),
)
# Para onde a telemetria vai: o receptor do `make local` ou o Collector (as mesmas portas),
# e onde o aluno a olha no Docker.
TELEMETRIA = (
    Processo("otlp-http", 4318, None, "receptor local (make local) ou Collector"),
    Processo("otlp-grpc", 4317, None, "receptor local (make local) ou Collector"),
    Processo("collector-saude", 13133, "/", "Collector (extensão health_check)", "COLLECTOR_SAUDE_URL"),
    Processo("jaeger", 16686, "/", "Jaeger v2 (API /api/v3; a interface só no Docker)", "JAEGER_URL"),
    Processo("prometheus", 9090, "/-/ready", "Prometheus (API /api/v1 e interface)", "PROMETHEUS_URL"),
    # O que o aluno abre no navegador sem Docker (make local com a pilha real): a cascata de cada trace e os
    # logs com a interface deles. O visualizador recebe do Jaeger (jaeger/visualizador.yaml), os logs vêm do Collector.
    Processo("visualizador", 8000, "/", "otel-desktop-viewer (make local): a cascata de um trace", "VISUALIZADOR_URL",
             so_no_make_local=True),
    Processo("victorialogs", 9428, "/health", "VictoriaLogs: os logs OTLP e a interface deles", "VICTORIALOGS_URL"),
    # Os painéis: o VictoriaMetrics recebe do Prometheus (remote_write) e a vmui dele mostra paineis/*.json.
    Processo("paineis", 8428, "/health", "VictoriaMetrics: os painéis da turma em /vmui/#/dashboards", "PAINEIS_URL"),
)
SERVICOS = tuple(processo.nome for processo in SERVICOS_DO_LAB)
# A entrada pública opcional (GATEWAY=true, perfil `gateway` do compose): o Caddy de gateway/Caddyfile
# na frente das réplicas dos serviços. Responde /health sozinho, sem perguntar a ninguém.
GATEWAY = Processo("gateway", 8080, "/health", "caddy run --config gateway/Caddyfile", depende_de=SERVICOS)
# O broker da compra por mensagens (ORDENS_SAGA=mensagens): o RabbitMQ do `make local` (o
# rabbitmq-server da máquina, numa pasta temporária) ou a imagem oficial no perfil `mensagens` do
# compose, com a interface de gestão só lá. AMQP não tem GET: "pronto" é aceitar uma conexão AMQP.
BROKER = (
    Processo("rabbitmq", 5672, None, "rabbitmq-server (make local) ou a imagem rabbitmq (compose)"),
    Processo("rabbitmq-gestao", 15672, "/", "plugin de gestão do RabbitMQ (só no compose)"),
)
PROCESSOS = {processo.nome: processo for processo in (*SERVICOS_DO_LAB, *TELEMETRIA, GATEWAY, *BROKER)}

# Com o gateway, a réplica k (0, 1, …) de um serviço escuta na porta dele + 100 × k: livros em 8081 e
# 8181, ordens em 8082 e 8182. A primeira fica na porta de sempre (os curl dos exercícios e o /admin
# continuam valendo); as outras têm portas previsíveis, que o aluno acha no span do gateway.
DESLOCAMENTO_DAS_REPLICAS = 100


def _ordem_de_subida(processos) -> tuple[str, ...]:
    """Cada processo depois daqueles de que depende (dependências entre serviços do laboratório)."""
    ordem: list[str] = []
    pendentes = list(processos)
    while pendentes:
        prontos = [p for p in pendentes if set(p.depende_de) <= set(ordem)]
        assert prontos, f"dependência circular entre {[p.nome for p in pendentes]}"
        ordem += [p.nome for p in prontos]
        pendentes = [p for p in pendentes if p not in prontos]
    return tuple(ordem)


ORDEM_DE_SUBIDA = _ordem_de_subida(SERVICOS_DO_LAB)


def portas_padrao(nomes=SERVICOS) -> dict[str, int]:
    return {nome: PROCESSOS[nome].porta for nome in nomes}
