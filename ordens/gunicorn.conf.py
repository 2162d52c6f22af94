# gunicorn --config ordens/gunicorn.conf.py   (a partir da raiz do projeto; igual no Docker)
from bookstore.gunicorn_comum import *  # noqa: F401,F403 — workers, hooks de telemetria etc.
from bookstore.gunicorn_comum import do_servico

# proc_name: o nome do processo no ps e o service.name padrão da telemetria.
proc_name, wsgi_app, bind = do_servico("ordens")
