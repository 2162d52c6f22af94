"""`make local`: o laboratório inteiro sem Docker.

Sobe um PostgreSQL (embutido, ou o de POSTGRES_URL), cria os três bancos e
sobe livros, ordens e pagamentos em 127.0.0.1:8081-8083 com o mesmo comando
do Docker. A telemetria vai para:

- o receptor OTLP local (padrão), em 127.0.0.1:4318 (HTTP) e 4317 (gRPC), as
  portas do Collector no compose. Ele grava tudo em `.telemetria/` (OTLP/JSON,
  lido por `make traces` e pelos autotestes) e imprime uma linha por trace;
- ou, no modo híbrido, OTEL_EXPORTER_OTLP_ENDPOINT, se você a definir (por
  exemplo o Collector do compose): aí nenhum receptor local sobe.

Ctrl-C, SIGTERM ou fechar o terminal (SIGHUP) param tudo em poucos segundos.
Os dados e a telemetria são apagados a cada início, a menos que
MANTER_DADOS=true (aí ficam em .dados-locais/ e .telemetria/).
"""
import signal
import sys
import threading
from contextlib import ExitStack

from bookstore import config, topologia
from telemetria_local.armazem import Armazem
from telemetria_local.processo import ReceptorEmProcesso

from . import gateway, mensageiros, pilha_real, registro
from .postgres import servidor_do_ambiente
from supervisao.portas import explicar_porta_ocupada, porta_ocupada
from .servicos import RAIZ, Laboratorio


def portas_do_ambiente() -> tuple[dict, dict]:
    """As portas da topologia (as do compose), ou PORTA_LIVROS, PORTA_ORDENS, PORTA_PAGAMENTOS,
    PORTA_OTLP_HTTP e PORTA_OTLP_GRPC se alguma estiver ocupada na sua máquina (os
    testes também usam isso)."""
    receptor = {"http": config.porta("otlp-http"), "grpc": config.porta("otlp-grpc")}
    return config.portas_do_ambiente(), receptor


def servicos_zero_code() -> frozenset:
    """ZERO_CODE=pagamentos (ou uma lista separada por vírgulas): quem roda sob o
    `opentelemetry-instrument` em vez da configuração do laboratório (exercício 03)."""
    nomes = frozenset(config.ler("ZERO_CODE"))
    desconhecidos = nomes - set(topologia.SERVICOS)
    if desconhecidos:
        raise config.ConfiguracaoInvalida(f"ZERO_CODE={','.join(sorted(desconhecidos))}: "
                                          f"use {', '.join(topologia.SERVICOS)}")
    return nomes


def ambiente_por_servico() -> dict[str, dict]:
    """AMBIENTE_LIVROS=OTEL_TRACES_SAMPLER_ARG=0.6 (ou outro serviço; vários pares separados por
    vírgula): variáveis só daquele serviço, como o `environment:` dele no compose (exercício 12)."""
    por_servico = {}
    for nome in topologia.SERVICOS:
        variavel = topologia.PROCESSOS[nome].variavel_ambiente
        pares = config.ler(variavel)
        errados = [par for par in pares if "=" not in par]
        if errados:
            raise config.ConfiguracaoInvalida(f"{variavel}: {', '.join(errados)} não é NOME=valor")
        por_servico[nome] = dict(par.split("=", 1) for par in pares)
    return por_servico


def subir_receptor(pilha: ExitStack, portas: dict, manter: bool) -> dict:
    """O receptor local com o armazém e o resumo no terminal; devolve o ambiente
    OTEL_* que aponta os serviços para ele. Ele roda no processo dele: se um cliente
    o derrubar (memória, um defeito), os serviços e o PostgreSQL seguem e ele volta."""
    armazem = Armazem()
    if not manter:
        armazem.limpar()
    receptor = pilha.enter_context(ReceptorEmProcesso(portas["http"], portas["grpc"], pasta=armazem.pasta))
    protocolo = (config.ler("OTEL_EXPORTER_OTLP_PROTOCOL") if config.definida("OTEL_EXPORTER_OTLP_PROTOCOL")
                 else config.variaveis_do_otel_env().get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"))
    print(f"Receptor OTLP local em 127.0.0.1:{portas['http']} (HTTP) e :{portas['grpc']} (gRPC); "
          f"telemetria em {armazem.pasta}/")
    return receptor.ambiente(protocolo)


def main() -> int:
    destino_externo = config.ler("OTEL_EXPORTER_OTLP_ENDPOINT")
    hibrido = bool(destino_externo)
    portas_servicos, portas_otlp = portas_do_ambiente()
    com_gateway = config.ler("GATEWAY")  # o gateway e as réplicas (modo_local/gateway.py)
    com_mensagens = mensageiros.pedidos()  # ORDENS_SAGA=mensagens: o RabbitMQ e os mensageiros
    # A pilha real (Collector, Jaeger, Prometheus de .ferramentas/bin/) ou o receptor local: modo_local/pilha_real.py.
    real = not hibrido and pilha_real.usar_pilha_real()
    necessarias = [*portas_servicos.values(), *([] if hibrido else portas_otlp.values()),
                   *(porta for porta in pilha_real.portas_publicas().values() if real and porta not in portas_otlp.values()),
                   *(gateway.portas_a_mais(config.ler("REPLICAS")) if com_gateway else []),
                   *(mensageiros.portas_a_mais() if com_mensagens else [])]
    ocupadas = [porta for porta in necessarias if porta_ocupada(porta)]
    if ocupadas:
        for porta in ocupadas:
            print(f"✘ {explicar_porta_ocupada(porta)}", file=sys.stderr)
        if not hibrido and set(ocupadas) <= set(portas_otlp.values()):
            print("  Se é o Collector do compose, use o modo híbrido:\n"
                  f"  OTEL_EXPORTER_OTLP_ENDPOINT={config.url('otlp-http')} make local", file=sys.stderr)
        return 1

    zero_code = servicos_zero_code()
    so_de_um = ambiente_por_servico()
    manter = config.ler("MANTER_DADOS")
    postgres = servidor_do_ambiente(pasta=RAIZ / ".dados-locais" if manter else None)

    encerrar = threading.Event()
    for sinal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sinal, lambda *_: encerrar.set())

    with ExitStack() as pilha:
        pilha.enter_context(postgres)
        print(f"PostgreSQL em {postgres.url()}")
        if hibrido:
            destino = {}
            print(f"Modo híbrido: telemetria para {destino_externo} "
                  "(nenhum receptor local).")
        elif real:
            destino, pilha_no_ar = pilha_real.subir(pilha, Armazem().pasta, manter)
            print(pilha_no_ar.resumo())
        else:
            destino = subir_receptor(pilha, portas_otlp, manter)
        # O laboratório é para os exercícios: admin ligado, como no compose.
        ambiente = {**({} if config.definida("ADMIN_HABILITADO") else {"ADMIN_HABILITADO": "true"}), **destino}
        if com_gateway:
            lab = pilha.enter_context(gateway.LaboratorioComGateway(postgres, ambiente, destino, zero_code,
                                                                    ambiente_por_servico=so_de_um))
        else:
            lab = pilha.enter_context(Laboratorio(postgres, portas=portas_servicos, ambiente=ambiente, zero_code=zero_code,
                                                  ambiente_por_servico=so_de_um))
        broker = mensageiros.subir(pilha, lab) if com_mensagens else ""
        # Com o gateway, as réplicas dividem os bancos: os da primeira são os de todas.
        pilha.enter_context(registro.anotado(getattr(lab, "laboratorios", [lab])[0].bancos, mensagens=com_mensagens,
                                             gateway=com_gateway, pilha="real" if real else "hibrido" if hibrido else "receptor"))
        print("\nLaboratório pronto:")
        for nome, porta in portas_servicos.items():
            sob = f"  (zero-code: opentelemetry-instrument gunicorn …, OTEL_SERVICE_NAME={nome})" if nome in zero_code else ""
            so_dele = "".join(f"  {chave}={valor}" for chave, valor in so_de_um[nome].items())
            print(f"  {nome:<11} http://127.0.0.1:{porta}{sob}{so_dele}")
        if com_gateway:
            print(lab.resumo())
        if broker:
            print(broker)
        if real:
            print(pilha_no_ar.no_navegador())
        print(f"\nExperimente:  curl -s http://127.0.0.1:{portas_servicos['livros']}/livros\n"
              + ("" if hibrido else "Os traces (lidos do Jaeger): make traces; a árvore de um: make traces TRACE=<id>\n"
                 if real else "Cada trace terminado aparece aqui numa linha; a árvore: make traces TRACE=<id>\n")
              + "Ctrl-C para parar.\n", flush=True)
        encerrar.wait()
        print("\nParando os serviços...", flush=True)
        # Ao sair do `with`, na ordem inversa: serviços (que esvaziam a telemetria
        # no receptor), receptor e resumo, PostgreSQL.
    print("Tudo parado." + (" Dados mantidos em .dados-locais/ e .telemetria/." if manter else ""))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except config.ConfiguracaoInvalida as erro:  # variável de ambiente errada: uma linha, sem traceback
        print(f"✘ {erro}", file=sys.stderr)
        sys.exit(2)
