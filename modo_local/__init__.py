"""Modo local: o laboratório sem Docker (PostgreSQL embutido + três gunicorns).

Usado por `make local`, pelos testes ponta a ponta e por `make bench`, para que
os três subam do mesmo jeito — com o mesmo comando e os mesmos arquivos de
configuração do gunicorn que as imagens Docker usam.
"""
