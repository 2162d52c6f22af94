"""Configuração do gunicorn comum aos três serviços.

Cada `<servico>/gunicorn.conf.py` importa isto e define só o que é dele
(aplicação e porta). É o MESMO arquivo no Docker e no modo local: os dois
rodam `gunicorn --config <servico>/gunicorn.conf.py` a partir da raiz do projeto.
"""
import signal

from bookstore import config, topologia

# O que o `from bookstore.gunicorn_comum import *` de cada gunicorn.conf.py leva: só configurações e
# hooks do gunicorn (um nome como `config`, que é também uma opção dele, não pode vazar para lá).
__all__ = ["workers", "worker_class", "preload_app", "timeout", "graceful_timeout", "control_socket_disable",
           "accesslog", "errorlog", "loglevel", "on_starting", "post_fork", "post_worker_init", "worker_exit"]

# Vários workers (processos): é o que torna a concorrência real — e o que faz
# um threading.Lock não servir para proteger o estoque.
workers = config.ler("WEB_CONCURRENCY")
# O `sync` do gunicorn, com os erros que ele mesmo responde (cabeçalho grande
# demais etc.) em JSON, como todo erro do contrato (bookstore/gunicorn_worker.py).
worker_class = "bookstore.gunicorn_worker.WorkerComErrosJSON"
# Sem --preload: a aplicação (pool de conexões, threads) nasce em cada worker,
# depois do fork. Nada que tenha threads ou sockets atravessa um fork.
preload_app = False
# Uma requisição presa mais que isso mata o worker; a saga de ordens se
# recupera disso (ver ordens/recuperacao.py).
timeout = config.ler("GUNICORN_TIMEOUT")
# Ao parar (Ctrl-C no make local, `docker compose stop`), quanto o worker tem para
# terminar a requisição em curso. A telemetria que sobra é esvaziada em até
# telemetria.PRAZO_PARA_ESVAZIAR_SEGUNDOS no worker_exit, dentro deste prazo.
graceful_timeout = 4
# O socket de controle (gunicorn >= 25.1) fica num caminho fixo em $HOME: três
# serviços (e os testes, que sobem vários) brigariam pelo mesmo arquivo.
control_socket_disable = True
accesslog = None  # cada requisição já vira um span; o log de acesso seria ruído
errorlog = "-"
loglevel = config.ler("GUNICORN_LOGLEVEL")


def do_servico(nome: str) -> tuple[str, str, list[str]]:
    """proc_name, wsgi_app e bind de um serviço: HOST/PORT do ambiente (127.0.0.1 no modo
    local, 0.0.0.0 no contêiner), e a porta da topologia se PORT não vier."""
    porta = config.ler("PORT") or topologia.PROCESSOS[nome].porta
    return nome, f"{nome}:create_app()", [f"{config.ler('HOST')}:{porta}"]


def on_starting(server):
    """No master, antes de qualquer worker: o esquema do banco (o mesmo que `flask init-db`).
    Uma vez por serviço, não uma por worker; réplicas que sobem juntas se revezam no lock."""
    from bookstore import aplicacao
    aplicacao.preparar_banco(server.cfg.proc_name)


def post_fork(server, worker):
    """Telemetria nasce em cada worker, depois do fork (ver bookstore/telemetria.py)."""
    # Até instalar os próprios sinais (depois deste hook), o worker tem os handlers herdados do
    # master, que só enfileiram o sinal: um SIGTERM que chegasse agora (parar logo depois de
    # subir) se perderia, e o master esperaria graceful_timeout para matá-lo. Um worker que ainda
    # não atendeu nada pode morrer direto.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from bookstore import processo, telemetria
    # Se o master morrer sem avisar (SIGKILL), o worker morre junto em vez de
    # ficar órfão segurando conexões (o gunicorn só notaria em até timeout/2 s).
    processo.morrer_com_o_pai()
    telemetria.configurar(server.cfg.proc_name)  # proc_name = nome do serviço


def post_worker_init(worker):
    """A aplicação já carregada no worker e o SDK já no ar: as threads de segundo plano
    do serviço (a recuperação de ordens) nascem aqui, e não na fábrica."""
    from bookstore import aplicacao
    aplicacao.iniciar_no_worker(worker.wsgi)


def worker_exit(server, worker):
    from bookstore import telemetria
    telemetria.encerrar()
