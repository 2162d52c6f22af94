"""A limpeza da outbox e da inbox: sem ela, as duas tabelas crescem uma linha por mensagem, para sempre.

O que ainda precisa de uma linha, e por quanto tempo:
- a inbox (mensagens_recebidas) reconhece uma entrega repetida. O broker só repete uma mensagem que
  ainda não recebeu ack: o consumidor morreu entre o commit e o ack, e a conexão morta é notada em
  ~1 min (heartbeat de 30 s, conexao.py);
- a outbox publicada (mensagens_a_enviar com publicada_em) é o que `reenviar_respostas` devolve a
  essa repetição: as respostas da primeira vez;
- uma linha ainda não publicada nunca sai: é uma mensagem por mandar.

Uma ordem parada mais que ORDENS_ABANDONO_SEGUNDOS (60 s) é desfeita pela recuperação, que manda de
novo o que faltou; depois disso, uma repetição tardia acha as marcas de desfeita (ordens_desfeitas,
cobrancas_desfeitas) e não muda nada. Guardar MENSAGENS_GUARDAR_SEGUNDOS (1 h) passa com folga das
duas janelas, e mesmo um mensageiro fora por muitos minutos acha a inbox quando volta.

O relay apaga em lotes pequenos (LOTE linhas, `SKIP LOCKED`: dois relays não disputam as mesmas) a
cada LIMPAR_A_CADA_SEGUNDOS, sem spans: é maquinaria, como a leitura da outbox.
"""
LIMPAR_A_CADA_SEGUNDOS = 60.0
LOTE = 5000
LOTES_POR_VEZ = 20  # uma limpeza não segura o relay por mais que alguns lotes; o resto fica para a próxima

_APAGAR = {
    "mensagens_a_enviar": "publicada_em",  # só as publicadas: a pendente é uma mensagem por mandar
    "mensagens_recebidas": "recebida_em",
}


def limpar(cursor, guardar_segundos: float) -> dict[str, int]:
    """Apaga o que passou de `guardar_segundos`; devolve quantas linhas saíram de cada tabela."""
    apagadas = {}
    for tabela, coluna in _APAGAR.items():
        total = 0
        for _ in range(LOTES_POR_VEZ):
            saiu = cursor.execute(
                f"DELETE FROM {tabela} WHERE id IN (SELECT id FROM {tabela}"
                f"  WHERE {coluna} < clock_timestamp() - make_interval(secs => %s)"
                f"  LIMIT %s FOR UPDATE SKIP LOCKED)", (guardar_segundos, LOTE)).rowcount
            total += saiu
            if saiu < LOTE:
                break
        apagadas[tabela] = total
    return apagadas
