"""Game days: um incidente escondido no laboratório no ar, achado só pela telemetria, e a resposta avaliada.

`make incidente` liga um incidente do catálogo (catalogo.py) sorteado (SEMENTE= para a turma inteira ter o
mesmo; NOME= escolhe um, para o instrutor) e uma carga leve em segundo plano (carga.py), que mantém os
sintomas chegando. O laboratório continua vendendo; nada do que o aluno consulta nomeia o incidente: os
mecanismos ficam no banco do serviço (um gatilho SQL), não nos arquivos do repositório nem no /admin/falhas,
então nem o aviso de estado carregado do `make confere`, nem o vigia da config, nem o supervisor os veem.

`make incidente RESPOSTA='<serviço> <causa>' EVIDENCIA=<trace_id>` avalia (avaliacao.py): o serviço e a causa
certos, e um trace de depois do início que mostre o sintoma. `make incidente FIM=1` encerra pelo `make
restaura` e diz a resposta.
"""
