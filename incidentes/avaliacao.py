"""A resposta de um aluno: `<serviço> <causa>` e um trace de evidência, conferido na telemetria.

O ✘ diz onde olhar, nunca o que está lá: a dica do serviço é a do incidente (em que parte do trace o
sintoma se mostra), a da causa é a mesma para todos (o que o span faz está nos atributos dele).
"""
import datetime

from autoteste.consultas import compras, id_normalizado, problema_do_id, trace_informado
from telemetria_local.fontes import FonteLocal

from .catalogo import CAUSAS, SERVICOS, Incidente

DICA_DA_CAUSA = ("o serviço está certo; a causa, não: abra o span em que o sintoma começa e leia os atributos "
                 "e eventos dele (db.statement, a exceção, a duração dos filhos)")
DICA_DA_EVIDENCIA = ("a evidência é o id de um trace de compra de depois do início do incidente em que o "
                     "sintoma aparece (copie-o do Jaeger ou do `make traces`)")


def entender(resposta: str) -> tuple[str, str] | str:
    """(serviço, causa), ou a linha que diz o que está errado na forma da resposta."""
    palavras = resposta.lower().split()
    if len(palavras) != 2:
        return ("responda com duas palavras, RESPOSTA='<serviço> <causa>': serviços " + ", ".join(SERVICOS)
                + "; causas " + ", ".join(CAUSAS))
    servico, causa = palavras
    if servico not in SERVICOS:
        return f"{servico!r} não é um serviço do laboratório: use {', '.join(SERVICOS)}"
    if causa not in CAUSAS:
        return f"{causa!r} não está no vocabulário das causas: use {', '.join(CAUSAS)} (make incidentes)"
    return servico, causa


def avaliar(incidente: Incidente, inicio: float, resposta: str, evidencia: str, fonte) -> list[tuple[bool, str]]:
    """As linhas ✔/✘ da resposta; todas ✔ = resolvido."""
    entendida = entender(resposta)
    if isinstance(entendida, str):
        return [(False, entendida)]
    servico, causa = entendida
    linhas = []
    if servico == incidente.servico:
        linhas.append((True, f"o serviço: {servico}"))
        linhas.append((causa == incidente.causa, f"a causa: {causa}" if causa == incidente.causa else DICA_DA_CAUSA))
    else:
        linhas.append((False, f"o sintoma não começa em {servico}: {incidente.onde_olhar}"))
    linhas.append(conferir_evidencia(incidente, inicio, evidencia, fonte))
    return linhas


def spans_desde(fonte, inicio: float) -> list[dict]:
    """Os spans de depois de `inicio` (epoch): o Jaeger filtra na busca; o receptor local guarda tudo, filtra-se aqui."""
    if isinstance(fonte, FonteLocal):
        return [span for span in fonte.spans() if span["inicio_ns"] >= inicio * 1e9]
    return fonte.spans(desde=datetime.datetime.fromtimestamp(inicio, datetime.timezone.utc))


def conferir_evidencia(incidente: Incidente, inicio: float, evidencia: str, fonte) -> tuple[bool, str]:
    if not evidencia.strip():
        return False, f"falta a evidência: EVIDENCIA=<trace_id>; {DICA_DA_EVIDENCIA}"
    grupos = compras(spans_desde(fonte, inicio))
    if problema := problema_do_id(evidencia, grupos):
        return False, f"{problema} (só contam as compras de depois do início do incidente)"
    spans = trace_informado(evidencia, grupos)
    if min(s["inicio_ns"] for s in spans) < inicio * 1e9:
        return False, f"o trace {id_normalizado(evidencia)[:8]}… é de antes do início do incidente"
    if not incidente.mostra(spans):
        return False, f"o trace {id_normalizado(evidencia)[:8]}… não mostra o sintoma: {DICA_DA_EVIDENCIA}"
    return True, f"a evidência: o trace {id_normalizado(evidencia)[:8]}… mostra o sintoma"
