"""Autoteste do exercício 15: o canal posto em ordens chega, pelo baggage, a um span de pagamentos."""
from autoteste.consultas import compras
from autoteste.exercicios import Criterio

TIPO = "codigo"


def conferir(fonte, resposta: str) -> list[Criterio]:
    decisoes = [s for grupo in compras(fonte.spans()).values() for s in grupo
                if s["servico"] == "pagamentos" and s["nome"] == "POST /pagamentos"]
    com_canal = [s for s in decisoes if s["atributos"].get("bookstore.canal")]
    do_cabecalho = [s for s in com_canal if s["atributos"]["bookstore.canal"] != "api"]
    return [
        Criterio(bool(decisoes), "há compra que passou por pagamentos (POST /pagamentos)", "compre um livro (passo 3)"),
        Criterio(bool(com_canal), "o span POST /pagamentos tem o atributo bookstore.canal, vindo do baggage",
                 "ponha o baggage em ordens/rotas.py (passo 1), copie-o para o span em pagamentos/rotas.py (passo 2) "
                 "e reinicie o laboratório"),
        Criterio(bool(do_cabecalho), "o canal veio do cabeçalho X-Canal da compra (não é o padrão 'api')",
                 "compre com -H 'X-Canal: app' (passo 3)"),
    ]
