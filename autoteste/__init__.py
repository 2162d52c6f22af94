"""Autoteste dos exercícios: `make confere EX=04` (ou `python -m autoteste 04`).

Cada exercício tem, na sua pasta, um `confere.py` com os critérios: funções que
olham a telemetria onde o aluno olharia — o receptor do `make local`
(`.telemetria/`) ou, no Docker, o Jaeger (`/api/v3`) e o Prometheus — e dizem ✔ ou
✘ com uma dica. O código de cada exercício fica ao lado do texto dele; aqui só a
maquinaria comum: achar o exercício, escolher a fonte, imprimir o relatório.
"""
