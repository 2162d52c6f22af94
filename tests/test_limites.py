"""O vigia dos tetos (modo_local/limites.py) contra um Prometheus de verdade (o binário da pilha real):
uma linha por serviço que transborda, uma quando a coleta passa do sample_limit, e nada quando está tudo bem.

O alvo é um servidor HTTP deste teste com as séries que o exportador do Collector escreveria — duas de
transbordo (otel_metric_overflow) de um serviço, e, no segundo job, mais séries que o sample_limit dele.
"""
import http.server
import threading

import pytest

from modo_local.limites import VigiaDosLimites
from supervisao.filho import Filho
from supervisao.portas import porta_livre
from tests.apoio import esperar
from tests.test_pilha_real import binario

pytestmark = pytest.mark.e2e

SERIES = """# TYPE traces_span_metrics_calls_total counter
traces_span_metrics_calls_total{job="aluno-descuidado",otel_metric_overflow="true"} 1900
traces_span_metrics_calls_total{job="aluno-descuidado",span_name="saga.gravar_reserva 1"} 1
traces_span_metrics_calls_total{job="ordens",span_name="POST /ordens"} 7
"""


class Alvo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        corpo = SERIES.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(corpo)))
        self.end_headers()
        self.wfile.write(corpo)

    def log_message(self, *_):
        pass


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    pasta = tmp_path_factory.mktemp("prometheus-limites")
    alvo = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Alvo)
    threading.Thread(target=alvo.serve_forever, daemon=True).start()
    endereco = f"127.0.0.1:{alvo.server_address[1]}"
    (pasta / "prometheus.yml").write_text(f"""global: {{scrape_interval: 1s}}
scrape_configs:
  - job_name: cabe
    honor_labels: true
    static_configs: [{{targets: ["{endereco}"]}}]
  - job_name: grande-demais
    sample_limit: 2
    static_configs: [{{targets: ["{endereco}"]}}]
""")
    porta = porta_livre()
    processo = Filho([binario("prometheus"), f"--config.file={pasta / 'prometheus.yml'}",
                      f"--storage.tsdb.path={pasta / 'dados'}", f"--web.listen-address=127.0.0.1:{porta}"],
                     log=pasta / "prometheus.log").iniciar()
    yield f"http://127.0.0.1:{porta}"
    processo.parar()
    alvo.shutdown()


def test_o_vigia_nomeia_quem_transbordou_e_a_coleta_que_passou_do_sample_limit(prometheus):
    linhas: list[str] = []
    vigia = VigiaDosLimites(prometheus, linhas.append)

    def olhou_tudo():
        try:
            vigia.olhar()
        except Exception:  # o Prometheus ainda subindo
            return False
        return vigia.avisados and vigia.coletas_recusadas

    esperar(olhou_tudo, 30, intervalo=0.5, descricao="o Prometheus coletar os dois jobs")
    vigia.olhar()  # de novo: nada muda, nada se repete
    assert len(linhas) == 2, linhas
    transbordo, coleta = sorted(linhas)
    assert transbordo.startswith("⚠ aluno-descuidado passou do teto de séries em traces_span_metrics_calls_total:")
    assert "ordens" not in transbordo
    assert coleta.startswith("⚠ o Prometheus recusou a coleta de grande-demais (sample limit exceeded")
