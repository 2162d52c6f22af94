"""As medições do `make bench`: uma por arquivo em .bench/ (BENCH_PASTA muda a pasta).

O bench grava; o autoteste do exercício 16 lê (compara a razão que o aluno leu com a
que ficou guardada).
"""
import datetime
import json
from pathlib import Path

from bookstore import config, topologia


def pasta() -> Path:
    return Path(config.ler("BENCH_PASTA") or config.RAIZ / ".bench")


def razao(valor: float, base: float) -> float | None:
    """None quando a base é zero (carga pequena demais para o relógio de CPU, de 10 ms, ver algo)."""
    return round(valor / base, 3) if base else None


def cpu_total(resultado: dict) -> float:
    return sum(resultado[f"cpu {nome}"] for nome in topologia.SERVICOS)


def guardar(medicao: dict, resultados: dict[int, dict[str, dict]], comparacoes, onde: Path | None = None) -> Path:
    """A medição em JSON: `medicao` (a carga e a amostragem) e, por número de clientes, os modos
    e as razões que a tabela imprime ("instrumentado/desligado": vazão, CPU e p50 a mais)."""
    agora = datetime.datetime.now().astimezone()
    razoes = {concorrencia: {f"{com}/{base}": {
        "vazao": razao(modos[com]["vazao"], modos[base]["vazao"]),
        "cpu": razao(cpu_total(modos[com]), cpu_total(modos[base])),
        "p50_ms_a_mais": round(modos[com]["p50"] - modos[base]["p50"], 1)} for com, base, _ in comparacoes}
        for concorrencia, modos in resultados.items()}
    destino = onde or pasta()
    destino.mkdir(parents=True, exist_ok=True)
    arquivo = destino / f"{agora:%Y%m%d-%H%M%S}.json"
    arquivo.write_text(json.dumps({"quando": agora.isoformat(timespec="seconds"), **medicao,
                                   "resultados": resultados, "razoes": razoes}, ensure_ascii=False, indent=1))
    return arquivo


def medicoes(onde: Path | None = None) -> list[dict]:
    """As medições guardadas, da mais antiga à mais nova (chaves de clientes voltam a ser int)."""
    lidas = []
    for arquivo in sorted((onde or pasta()).glob("*.json")):
        medicao = json.loads(arquivo.read_text())
        medicao["razoes"] = {int(k): v for k, v in medicao["razoes"].items()}
        lidas.append(medicao)
    return lidas
