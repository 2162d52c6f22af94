# gunicorn --config ordens/gunicorn.conf.py   (a partir da raiz do projeto; igual no Docker)
from bookstore.gunicorn_comum import *  # noqa: F401,F403 — workers, hooks de telemetria etc.
from bookstore.gunicorn_comum import endereco

proc_name = "ordens"  # nome do processo no ps e service.name padrão da telemetria
wsgi_app = "ordens:create_app()"
bind = endereco(porta_padrao=8082)
