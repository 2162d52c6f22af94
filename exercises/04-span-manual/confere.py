"""Autoteste do exercício 04: o span `saga.gravar_reserva`, no lugar certo, com o atributo."""
from autoteste.consultas import compras
from autoteste.exercicios import Criterio

TIPO = "codigo"

NOME = "saga.gravar_reserva"
ATRIBUTO = "bookstore.reserva.itens"


def conferir(fonte, resposta: str) -> list[Criterio]:
    spans = [s for grupo in compras(fonte.spans()).values() for s in grupo]
    por_id = {s["span_id"]: s for s in spans}
    meus = [s for s in spans if s["nome"] == NOME]
    no_lugar = [s for s in meus if por_id.get(s["parent_id"], {}).get("nome") == "saga.reservar_estoque"]
    com_atributo = [s for s in no_lugar if isinstance(s["atributos"].get(ATRIBUTO), int)
                    and s["atributos"][ATRIBUTO] >= 1]
    com_sql = [s for s in com_atributo
               if any(filho["parent_id"] == s["span_id"] and "db.system" in filho["atributos"] for filho in spans)]
    return [
        Criterio(bool(meus), f"uma compra tem o span {NOME}",
                 "crie o span em ordens/saga.py, reinicie o laboratório e compre de novo"),
        Criterio(bool(no_lugar), f"{NOME} é filho de saga.reservar_estoque",
                 "crie o span dentro do `with passo(\"reservar_estoque\", …)`, em volta de registrar_reserva"),
        Criterio(bool(com_atributo), f"{NOME} tem {ATRIBUTO} com o número de itens (inteiro >= 1)",
                 f'attributes={{"{ATRIBUTO}": len(reserva["itens"])}}'),
        Criterio(bool(com_sql), f"o SQL que grava a reserva (o span WITH) é filho de {NOME}",
                 "use start_as_current_span (e não start_span): o span precisa ser o atual durante o SQL"),
    ]
