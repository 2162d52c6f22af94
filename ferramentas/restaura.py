"""`make restaura`: o laboratório de volta ao que ele é, para o próximo exercício.

Devolve ao que o repositório tem os arquivos que os exercícios mudam (autoteste/estado.py: a config do
Collector, o `otel.env`, o código dos serviços que as soluções trocam) e desliga as falhas injetadas nos
serviços no ar, e encerra o incidente de game day em curso (`make incidente`: o gatilho no banco e a carga
de fundo). Não mexe em mais nada: um arquivo seu fora dessa lista fica como está. Com o make local
no ar, o Collector volta sozinho com a config do laboratório; o código novo vale quando o make local
reinicia.
"""
import subprocess
import sys

import requests

from autoteste import estado
from bookstore import config
from bookstore.config import RAIZ
from incidentes.__main__ import desfazer as desfazer_o_incidente
from modo_local import registro


def main() -> int:
    mudados = estado.arquivos_mudados()
    if mudados is None:
        print("✘ sem git aqui (uma cópia baixada sem o repositório?): não sei qual é o arquivo do laboratório; "
              "baixe o laboratório de novo com `git clone`")
        return 1
    if mudados:
        subprocess.run(["git", "-C", str(RAIZ), "checkout", "HEAD", "--", *mudados], check=True)
        for arquivo in mudados:
            print(f"✔ {arquivo}: de volta ao do laboratório")
    incidente = desfazer_o_incidente(registro.ler())
    if incidente:
        print("✔ o incidente em curso: encerrado (o banco de volta ao do laboratório, a carga de fundo parada)")
    for servico in estado.falhas_ligadas():
        requests.put(config.url(servico) + "/admin/falhas", json={"latencia_ms": 0, "taxa_erro": 0}, timeout=5)
        print(f"✔ falhas de {servico} desligadas")
    if not mudados and not incidente and not estado.falhas_ligadas():
        print("✔ nada a restaurar: os arquivos e as falhas já são os do laboratório")
    elif any(arquivo != estado.CONFIG_DO_COLLECTOR for arquivo in mudados):
        # Só a config do Collector o make local relê sozinho; o código e o otel.env, os serviços leem ao subir.
        print("  o código e o otel.env do laboratório valem quando o make local reiniciar (Ctrl-C e make local de novo)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
