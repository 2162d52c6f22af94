"""A conta nos três bancos: as invariantes da saga, conferidas lendo os bancos direto.

Valem qualquer que seja a ordem dos acontecimentos: o `make caos` as confere depois das
falhas, e a suíte depois do ataque do Schemathesis (tests/test_api_schemathesis.py).
"""
import time
from pathlib import Path

import psycopg

STATUS_EM_ANDAMENTO = ("criada", "estoque_reservado", "pagamento_aprovado")
MOTIVOS_POR_STATUS = {
    "concluida": {None},
    "estoque_indisponivel": {"estoque_insuficiente"},
    "pagamento_recusado": {"cartao_recusado", "limite_excedido"},
}


def esperar_ordens_terminarem(lab, limite_segundos: float) -> int:
    """Espera não haver ordem em andamento; devolve quantas sobraram."""
    fim = time.monotonic() + limite_segundos
    while True:
        restantes = consultar(lab.bancos["ordens"], "SELECT count(*) FROM ordens WHERE status = ANY(%s)",
                              list(STATUS_EM_ANDAMENTO))[0][0]
        if restantes == 0 or time.monotonic() > fim:
            return restantes
        time.sleep(0.5)


def consultar(url: str, sql: str, *parametros) -> list[tuple]:
    with psycopg.connect(url) as conexao:
        return conexao.execute(sql, parametros).fetchall()


def verificar_invariantes(lab, iniciais: dict[int, int]) -> list[tuple[str, int, list]]:
    """(invariante, casos conferidos, violações) lendo os três bancos direto."""
    livros_db, ordens_db, pagamentos_db = lab.bancos["livros"], lab.bancos["ordens"], lab.bancos["pagamentos"]
    resultado = []

    estoque = {livro: (fisico, ativo, vendido) for livro, fisico, ativo, vendido in consultar(livros_db, """
        SELECT l.id, l.estoque_fisico,
               coalesce(sum(ri.quantidade) FILTER (WHERE r.status = 'ativa' AND r.expira_em > clock_timestamp()), 0),
               coalesce(sum(ri.quantidade) FILTER (WHERE r.status = 'confirmada'), 0)
          FROM livros l LEFT JOIN reserva_itens ri ON ri.livro_id = l.id
          LEFT JOIN reservas r ON r.id = ri.reserva_id
         WHERE l.id = ANY(%s) GROUP BY l.id""", list(iniciais))}
    resultado.append(("estoque: disponível + reservado + vendido = inicial, nunca negativo", len(iniciais), [
        f"livro {livro}: físico {fisico}, reservado {ativo}, vendido {vendido}, inicial {iniciais[livro]}"
        for livro, (fisico, ativo, vendido) in estoque.items()
        if fisico + vendido != iniciais[livro] or fisico - ativo < 0]))

    ordens = {linha[0]: linha for linha in consultar(ordens_db, """
        SELECT o.id, o.status, o.motivo, o.desfazer_para, o.reserva_id::text, o.total,
               array_agg(h.status ORDER BY h.id)
          FROM ordens o JOIN ordem_historico h ON h.ordem_id = o.id GROUP BY o.id""")}
    pagamentos = {ordem: (status, motivo, valor) for ordem, status, motivo, valor in consultar(
        pagamentos_db, "SELECT ordem_id, status, motivo, valor FROM pagamentos")}
    reservas = {ordem: status for ordem, status in consultar(
        livros_db, "SELECT ordem_id, status FROM reservas WHERE status <> 'cancelada'")}
    confirmadas_por_id = {reserva for (reserva,) in consultar(
        livros_db, "SELECT id::text FROM reservas WHERE status = 'confirmada'")}

    em_andamento = [f"ordem {o}: {linha[1]}" for o, linha in ordens.items() if linha[1] in STATUS_EM_ANDAMENTO]
    resultado.append(("nenhuma ordem ficou em andamento", len(ordens), em_andamento))

    concluidas = [linha for linha in ordens.values() if linha[1] == "concluida"]
    resultado.append(("concluída: um pagamento aprovado do total e a reserva confirmada", len(concluidas), [
        f"ordem {o}: pagamento {pagamentos.get(o)}, reserva {reserva}"
        for o, _, _, _, reserva, total, _ in concluidas
        if pagamentos.get(o, (None,))[0] != "aprovado" or pagamentos[o][2] != total
        or reserva not in confirmadas_por_id]))

    falhadas = [linha for linha in ordens.values() if linha[1] not in (*STATUS_EM_ANDAMENTO, "concluida")]
    resultado.append(("ordem que não deu certo: nada cobrado, nada vendido", len(falhadas), [
        f"ordem {o} ({status}): pagamento {pagamentos.get(o)}, reserva {reservas.get(o)}"
        for o, status, *_ in falhadas
        if pagamentos.get(o, (None,))[0] == "aprovado" or reservas.get(o) == "confirmada"]))

    def historia_errada(linha) -> str | None:
        ordem, status, motivo, desfazer_para, _, _, historico = linha
        if status in STATUS_EM_ANDAMENTO:
            return None  # já contada acima
        if desfazer_para is not None:
            return f"terminou ({status}) com desfazer_para={desfazer_para}"
        if historico[0] != "criada" or historico[-1] != status:
            return f"histórico {historico} não termina em {status}"
        finais = [passo for passo in historico if passo not in STATUS_EM_ANDAMENTO]
        if len(finais) != 1:
            return f"histórico {historico} tem {len(finais)} status finais"
        permitidos = MOTIVOS_POR_STATUS.get(status)
        if permitidos is not None and motivo not in permitidos:
            return f"{status} com motivo {motivo}"
        pagamento = pagamentos.get(ordem)
        if pagamento and pagamento[0] == "recusado" and (status, motivo) != ("pagamento_recusado", pagamento[1]):
            return f"pagamentos recusou ({pagamento[1]}), mas a ordem diz {status}/{motivo}"
        return None

    resultado.append(("motivo e histórico contam o que aconteceu (recusado é cartao_recusado)", len(ordens), [
        f"ordem {linha[0]}: {erro}" for linha in ordens.values() if (erro := historia_errada(linha))]))
    return resultado


def cartoes_em_disco(pastas, numeros) -> tuple[str, int, list[str]]:
    """Nenhum número de cartão inteiro legível em disco: cada arquivo das pastas (os bancos com o WAL, o
    broker com as filas e as de mortas, os logs), lido byte a byte. (invariante, arquivos lidos, violações)."""
    procurados = {numero.encode(): numero for numero in numeros}
    lidos, violacoes = 0, []
    for pasta in pastas:
        for arquivo in Path(pasta).rglob("*"):
            try:
                if not arquivo.is_file():  # pastas, o socket do PostgreSQL
                    continue
                conteudo = arquivo.read_bytes()
            except OSError:  # sumiu no caminho (um segmento do WAL reciclado)
                continue
            lidos += 1
            violacoes += [f"{arquivo}: o cartão {numero[:4]}…{numero[-4:]} legível"
                          for bruto, numero in procurados.items() if bruto in conteudo]
    return "nenhum número de cartão inteiro em disco (bancos e WAL, broker, logs)", lidos, violacoes
