"""`make incidente` [SEMENTE=n] [NOME=…] [RESPOSTA='<serviço> <causa>' EVIDENCIA=<trace_id>] [FIM=1];
`make incidentes`: o catálogo."""
import argparse
import random
import subprocess
import sys
import time

import psycopg

from bookstore.config import RAIZ
from modo_local import registro
from telemetria_local.fontes import fonte_do_ambiente

from . import estado
from .avaliacao import avaliar
from .catalogo import CATALOGO, CAUSAS, POR_NOME, SERVICOS, Incidente


def listar() -> int:
    print("Incidentes (para o instrutor: os nomes dizem a resposta):")
    for incidente in CATALOGO:
        print(f"- {incidente.nome}: {incidente.descricao}")
    print("\nO que o aluno responde, RESPOSTA='<serviço> <causa>':")
    print("  serviços: " + ", ".join(SERVICOS))
    for causa, texto in CAUSAS.items():
        print(f"  {causa}: {texto}")
    return 0


def executar_sql(laboratorio: dict, incidente: Incidente, sql: str) -> None:
    with psycopg.connect(laboratorio["bancos"][incidente.banco], autocommit=True, connect_timeout=5) as conexao:
        conexao.execute(sql)


def desfazer(laboratorio: dict | None) -> str | None:
    """Encerra o incidente em curso (o gatilho, a carga) e devolve o nome dele; None se não havia."""
    dados = estado.ler()
    if dados is None:
        return None
    incidente = POR_NOME[dados["nome"]]
    estado.apagar()  # a carga vê o arquivo sumir e para na próxima volta
    if laboratorio is not None:
        executar_sql(laboratorio, incidente, incidente.gatilho[1])
    return incidente.nome


def escolher(semente: str, nome: str) -> Incidente:
    """O do NOME=, ou o sorteado: com SEMENTE=, o mesmo em todos os laboratórios da turma."""
    return POR_NOME[nome] if nome else random.Random(semente or None).choice(CATALOGO)


def iniciar(laboratorio: dict, semente: str, nome: str) -> int:
    if nome and nome not in POR_NOME:
        print(f"✘ não há incidente {nome!r}: make incidentes lista o catálogo", file=sys.stderr)
        return 2
    incidente = escolher(semente, nome)
    executar_sql(laboratorio, incidente, incidente.gatilho[0])
    carga = subprocess.Popen([sys.executable, "-m", "incidentes.carga"], cwd=RAIZ, start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    estado.novo(incidente.nome, carga.pid)
    print(f"Incidente em curso desde {time.strftime('%H:%M:%S')}" + (f" (semente {semente})" if semente else "") + ".")
    print("Clientes reclamam das compras. O laboratório segue vendendo, com uma carga leve de fundo; ache o\n"
          "serviço e a causa só pela telemetria (Jaeger, Prometheus e os alertas, os logs, os painéis).\n"
          "Responda: make incidente RESPOSTA='<serviço> <causa>' EVIDENCIA=<trace_id>  (vocabulário: make incidentes)\n"
          "Desistir ou terminar: make incidente FIM=1")
    return 0


def responder(dados: dict, resposta: str, evidencia: str) -> int:
    incidente = POR_NOME[dados["nome"]]
    dados["tentativas"] += 1
    linhas = avaliar(incidente, dados["inicio"], resposta, evidencia, fonte_do_ambiente())
    for certo, texto in linhas:
        print(("✔ " if certo else "✘ ") + texto)
    acertou = all(certo for certo, _ in linhas)
    if acertou and dados["resolvido_em"] is None:
        dados["resolvido_em"] = time.time()
    estado.gravar(dados)
    if acertou:
        minutos, segundos = divmod(int(dados["resolvido_em"] - dados["inicio"]), 60)
        print(f"✔ resolvido em {minutos} min {segundos} s, na {dados['tentativas']}ª tentativa. "
              "make incidente FIM=1 encerra e restaura o laboratório.")
        return 0
    print(f"  tentativa {dados['tentativas']}; o incidente segue.")
    return 1


def terminar(dados: dict) -> int:
    incidente = POR_NOME[dados["nome"]]
    # O comando de restaurar do laboratório: desfaz o incidente e o resto do estado compartilhado.
    restaurou = subprocess.run([sys.executable, "-m", "ferramentas.restaura"], cwd=RAIZ)
    print(f"resposta: {incidente.resposta}")
    print(f"a evidência: {incidente.evidencia}")
    print(f"onde aparecia: {incidente.sinais}; alerta: {incidente.alerta or 'nenhum (um incidente mudo para os alertas)'}")
    if dados["resolvido_em"]:
        print(f"resolvido em {int(dados['resolvido_em'] - dados['inicio'])} s, em {dados['tentativas']} tentativa(s)")
    else:
        print(f"não resolvido ({dados['tentativas']} tentativa(s))")
    return restaurou.returncode


def main(argv=None) -> int:
    argumentos = argparse.ArgumentParser(prog="make incidente")
    argumentos.add_argument("--listar", action="store_true")
    argumentos.add_argument("--semente", default="")
    argumentos.add_argument("--nome", default="")
    argumentos.add_argument("--resposta", default="")
    argumentos.add_argument("--evidencia", default="")
    argumentos.add_argument("--fim", action="store_true")
    opcoes = argumentos.parse_args(argv)
    if opcoes.listar:
        return listar()
    dados = estado.ler()
    if opcoes.fim:
        if dados is None:
            print("nenhum incidente em curso (make incidente começa um)")
            return 0
        return terminar(dados)
    laboratorio = registro.ler()
    if laboratorio is None:
        print("✘ o make local não está no ar: suba-o (make local) noutro terminal e rode make incidente de novo",
              file=sys.stderr)
        return 1
    if opcoes.resposta or opcoes.evidencia:
        if dados is None:
            print("✘ nenhum incidente em curso: make incidente começa um", file=sys.stderr)
            return 1
        return responder(dados, opcoes.resposta, opcoes.evidencia)
    if dados is not None:
        print(f"um incidente já está em curso (há {int(time.time() - dados['inicio'])} s): responda com "
              "make incidente RESPOSTA='<serviço> <causa>' EVIDENCIA=<trace_id>, ou encerre com make incidente FIM=1")
        return 1
    return iniciar(laboratorio, opcoes.semente, opcoes.nome)


if __name__ == "__main__":
    sys.exit(main())
