"""`make capturas`: as capturas de tela que o README mostra em "Onde olhar", refeitas de um laboratório de
verdade.

Sobe um `make local` próprio com a pilha real (portas livres; o seu continua intacto), faz uma compra como
a do README, acha o trace dela, espera a telemetria dela chegar e abre, num Chromium, cada página que o aluno abre —
conferindo o que cada uma mostra (ferramentas/paginas.py; uma página com erro para tudo) — e grava a
imagem de cada uma em docs/capturas/.
"""
import json
import sys
import time

import requests

from bookstore import topologia
from bookstore.config import RAIZ
from modo_local import pilha_real
from telemetria_local.fontes import FonteDocker, url_dos_logs

from . import paginas
from .laboratorio_proprio import LaboratorioProprio, NaoSubiu

DESTINO = RAIZ / "docs" / "capturas"
SERVICOS = list(topologia.SERVICOS)
# Os passos da saga e os spans de entrada de cada serviço numa compra: o aluno os acha na cascata.
SPANS_DA_COMPRA = ["POST /ordens", "saga.reservar_estoque", "POST /reservas", "saga.cobrar", "POST /pagamentos",
                   "saga.confirmar_reserva", "POST /reservas/<uuid:reserva_id>/confirmacao"]
# A consulta da captura: as ordens por status final (o contador de negócio de ordens).
CONSULTA = "sum by (bookstore_ordem_status) (bookstore_ordens_total)"
PRAZO_DAS_METRICAS_SEGUNDOS = 60  # a exportação (10 s), a raspagem (10 s) e a CPU dividida
# Até a série chegar aos painéis: a exportação e a raspagem, o remote_write do Prometheus e os 5 s que o
# VictoriaMetrics espera antes de mostrar um ponto novo (-search.latencyOffset no docker-compose.yml).
PRAZO_DOS_PAINEIS_SEGUNDOS = 120
# Os painéis da captura: no transporte HTTP (o do make local sem ORDENS_SAGA), o das filas fica vazio.
PAINEIS_DA_CAPTURA = {"paineis.png": "RED por serviço", "paineis-funil.png": "Funil da compra"}


def comprar(ordens: str) -> int:
    """Uma compra como a do README (um curl, sem traceparent: a raiz do trace é o POST /ordens)."""
    resposta = requests.post(f"{ordens}/ordens", timeout=20,
                             json={"itens": [{"livro_id": 1, "quantidade": 1}], "cliente": "Ana"})
    resposta.raise_for_status()
    return resposta.json()["id"]


def movimentar(ordens: str, compras: int = 12, intervalo_segundos: float = 2.5) -> None:
    """Compras espaçadas (uma em cada quatro com o cartão recusado), para os gráficos de taxa dos painéis
    terem mais de um ponto e o funil mais de um desfecho."""
    for i in range(compras):
        cartao = {"cartao": "4000000000000002"} if i % 4 == 3 else {}
        requests.post(f"{ordens}/ordens", timeout=20,
                      json={"itens": [{"livro_id": 1 + i % 3, "quantidade": 1}], "cliente": "Ana", **cartao})
        time.sleep(intervalo_segundos)


def trace_da_ordem(jaeger: str, ordem: int) -> str:
    """O trace_id da compra, achado como o aluno o acharia: o span POST /ordens com bookstore.ordem.id."""
    fonte = FonteDocker(jaeger=jaeger)
    fim = time.monotonic() + PRAZO_DAS_METRICAS_SEGUNDOS
    while time.monotonic() < fim:
        for span in fonte.spans():
            if span["nome"] == "POST /ordens" and span["atributos"].get("bookstore.ordem.id") == ordem:
                return span["trace_id"]
        time.sleep(0.5)
    raise paginas.PaginaErrada(f"o trace da ordem {ordem} não chegou ao Jaeger ({jaeger})")


def esperar_a_metrica(prometheus: str) -> None:
    fim = time.monotonic() + PRAZO_DAS_METRICAS_SEGUNDOS
    while time.monotonic() < fim:
        corpo = requests.get(f"{prometheus}/api/v1/query", params={"query": CONSULTA}, timeout=5).json()
        if corpo.get("data", {}).get("result"):
            return
        time.sleep(1)
    raise paginas.PaginaErrada(f"{CONSULTA} sem resultado no Prometheus depois de {PRAZO_DAS_METRICAS_SEGUNDOS} s")


def paineis() -> list[dict]:
    """Os painéis do laboratório, como a vmui os mostra (paineis/*.json, na ordem dos nomes)."""
    return [json.loads(arquivo.read_text(encoding="utf-8")) for arquivo in sorted(pilha_real.PAINEIS.glob("*.json"))]


def esperar_os_paineis(url: str, titulos: list[str]) -> None:
    """Espera cada consulta dos painéis `titulos` ter ao menos uma série nos últimos 10 minutos, pela API do
    VictoriaMetrics: a vmui consulta uma vez ao abrir, então a página só é aberta depois."""
    consultas = [expr for painel in paineis() if painel["title"] in titulos
                 for linha in painel["rows"] for grafico in linha["panels"] for expr in grafico["expr"]]
    fim = time.monotonic() + PRAZO_DOS_PAINEIS_SEGUNDOS
    while True:
        agora = time.time()
        vazias = [expr for expr in consultas if not requests.get(
            f"{url}/api/v1/query_range", timeout=10,
            params={"query": expr, "start": agora - 600, "end": agora, "step": 15}).json()["data"]["result"]]
        if not vazias:
            return
        if time.monotonic() > fim:
            raise paginas.PaginaErrada(f"depois de {PRAZO_DOS_PAINEIS_SEGUNDOS} s, estas consultas dos painéis não têm "
                                       f"série no VictoriaMetrics ({url}):\n" + "\n".join(vazias))
        time.sleep(2)


def fotografar(lab: LaboratorioProprio, nav, trace_id: str, ordem: int) -> dict[str, object]:
    """Cada página, conferida; devolve {arquivo: página aberta}."""
    esperar_a_metrica(lab.url("prometheus"))
    esperar_os_paineis(lab.url("paineis"), list(PAINEIS_DA_CAPTURA.values()))
    return {
        "cascata.png": paginas.cascata(nav, lab.url("visualizador"), trace_id, SERVICOS, SPANS_DA_COMPRA),
        "prometheus.png": paginas.consulta_no_prometheus(nav, lab.url("prometheus"), CONSULTA, ["concluida"]),
        "logs.png": paginas.logs_do_trace(nav, url_dos_logs(lab.url("victorialogs"), trace_id),
                                          [f"ordem {ordem} → concluida"]),
        "docs.png": paginas.swagger(nav, lab.url("ordens"), ["/ordens"]),
        **{arquivo: paginas.painel(nav, lab.url("paineis"), titulo, ultimos="5m")[0]
           for arquivo, titulo in PAINEIS_DA_CAPTURA.items()},
    }


def main() -> int:
    if faltam := pilha_real.faltando():
        print(f"✘ falta {', '.join(faltam)} em .ferramentas/bin/: {pilha_real.COMO_CONSTRUIR}", file=sys.stderr)
        return 2
    DESTINO.mkdir(parents=True, exist_ok=True)
    try:
        with LaboratorioProprio("capturas-") as lab, paginas.navegador() as nav:
            ordem = comprar(lab.url("ordens"))
            trace_id = trace_da_ordem(lab.url("jaeger"), ordem)
            movimentar(lab.url("ordens"))
            for arquivo, pagina in fotografar(lab, nav, trace_id, ordem).items():
                pagina.screenshot(path=str(DESTINO / arquivo))
                print(f"✔ {(DESTINO / arquivo).relative_to(RAIZ)}  ({pagina.url})")
    except (NaoSubiu, paginas.PaginaErrada, FileNotFoundError) as erro:
        print(f"✘ {erro}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
