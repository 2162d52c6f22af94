"""As fixtures comuns: um PostgreSQL real para a sessão inteira de testes, e os vizinhos de ordens.

Sem POSTGRES_URL, sobe um PostgreSQL 18 embutido (wheel) numa porta livre; com
ela, usa o servidor indicado (precisa poder criar bancos). Os ajudantes que os
testes importam ficam em tests/apoio.py.
"""
import pytest

from modo_local.postgres import servidor_do_ambiente
from tests.apoio import portas_livres


@pytest.fixture(scope="session")
def postgres():
    with servidor_do_ambiente() as servidor:
        yield servidor


@pytest.fixture(scope="session")
def vizinhos(postgres, tmp_path_factory):
    """livros e pagamentos como processos gunicorn reais, para testar ordens
    com o cliente do Flask (sem mocks: as chamadas HTTP são de verdade)."""
    from modo_local.servicos import Laboratorio
    laboratorio = Laboratorio(
        postgres, portas=portas_livres(), prefixo_bancos="vizinhos_",
        pasta_logs=tmp_path_factory.mktemp("logs-vizinhos"),
        ambiente={"WEB_CONCURRENCY": "2", "ADMIN_HABILITADO": "true", "CATALOGO_INICIAL": "false",
                  "OTEL_SDK_DISABLED": "true"},
    )
    with laboratorio.iniciar(servicos=("livros", "pagamentos"), recriar_bancos=True):
        yield laboratorio


@pytest.fixture(autouse=True)
def _processo_dos_testes_e_um_cliente_de_fora():
    """O processo dos testes fala com os laboratórios como o curl do aluno: sem mandar contexto. Uma app
    criada aqui dentro (create_app) liga a instrumentação do requests para o processo inteiro; depois que
    test_telemetria põe um TracerProvider de verdade, todo requests.post dos testes seguintes levaria um
    traceparent — e a compra, que começa no gateway ou no POST /ordens, viraria filha de um span que
    nunca chega (só aparecia quando o pytest-xdist punha test_telemetria antes de test_gateway no mesmo
    processo). Depois de cada teste ela sai; a próxima app criada aqui a liga de novo."""
    yield
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    if RequestsInstrumentor().is_instrumented_by_opentelemetry:
        RequestsInstrumentor().uninstrument()


@pytest.fixture(scope="module")
def terminal(tmp_path_factory):
    """Um terminal de aluno (tests/roteiro.py): `make` com o virtualenv desta suíte."""
    from tests import roteiro
    return roteiro.pasta_do_make(tmp_path_factory.mktemp("terminal"))



# --- marcas honestas: `-m "not e2e"` é a suíte rápida, sem processo nenhum ---------------------
# Um teste sem a marca e2e que suba um gunicorn, o make local ou o receptor OTLP falha na hora,
# dizendo qual. Assim a marca não depende de alguém lembrar dela.
_teste_atual = {"e2e": True, "nome": ""}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _teste_atual.update(e2e=item.get_closest_marker("e2e") is not None, nome=item.nodeid)


def _so_com_a_marca_e2e(classe, metodo: str) -> None:
    original = getattr(classe, metodo)

    def guardado(*args, **kwargs):
        if not _teste_atual["e2e"]:
            raise RuntimeError(f"{_teste_atual['nome']} sobe processos ({classe.__name__}.{metodo}) "
                               "sem a marca e2e: marque-o com @pytest.mark.e2e")
        return original(*args, **kwargs)

    setattr(classe, metodo, guardado)


def pytest_addoption(parser):
    parser.addoption("--curso", action="store_true",
                     help="roda o curso em ordem de aula (tests/test_curso_em_ordem.py, marca turma): make curso")


def pytest_collection_modifyitems(config, items):
    """O curso em ordem de aula leva minutos e roda à parte (make curso): sem --curso, fica de fora."""
    if config.getoption("--curso"):
        return
    fora = [item for item in items if item.get_closest_marker("turma")]
    if fora:
        config.hook.pytest_deselected(items=fora)
        items[:] = [item for item in items if not item.get_closest_marker("turma")]


def pytest_configure(config):
    from modo_local.servicos import Laboratorio
    from telemetria_local.receptor import ReceptorOTLP
    from tests.lancador import ModoLocal
    for classe, metodo in ((Laboratorio, "iniciar_servico"), (ModoLocal, "iniciar"), (ReceptorOTLP, "iniciar")):
        _so_com_a_marca_e2e(classe, metodo)
