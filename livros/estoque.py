"""Reservas de estoque: o coração da concorrência da livraria.

Por que não um `threading.Lock`? Ele só vale dentro de um processo. O gunicorn
roda vários workers (processos) e o Docker pode rodar várias réplicas: dois
compradores do último exemplar caem em processos diferentes, cada um com o seu
lock, e os dois venderiam o livro. Quem enxerga todos os processos é o banco,
então é ele quem serializa:

1. `SELECT ... FOR UPDATE` nas linhas dos livros pedidos, sempre em ordem de id
   (duas reservas com os mesmos livros esperam uma pela outra, sem deadlock);
2. só então lê o disponível (view `livros_disponiveis`): com os locks na mão,
   ninguém mais muda a retenção desses livros até o commit;
3. grava a reserva com todos os itens, ou nada (uma transação só).

A confirmação também trava os livros antes de olhar o relógio: assim uma
reserva que venceu não pode ser confirmada depois que outra compra já levou o
estoque que ela liberou.
"""
import uuid

from opentelemetry import trace

from bookstore.erros import ErroAPI, NaoEncontrado

from .telemetria import reservas as contador_de_reservas

tracer = trace.get_tracer("livros")

SQL_STATUS = """
    CASE WHEN r.status = 'ativa' AND r.expira_em <= clock_timestamp()
         THEN 'expirada' ELSE r.status END
"""


def _com_total(reserva: dict) -> dict:
    reserva["total"] = sum(i["preco_unitario"] * i["quantidade"] for i in reserva["itens"])
    return reserva


def buscar_reserva(cursor, reserva_id: uuid.UUID) -> dict | None:
    # Os itens vêm agregados em JSON na mesma consulta: uma ida ao banco (um
    # span de SQL) por leitura. Os preços chegam como Decimal (ver bookstore/db.py).
    reserva = cursor.execute(
        f"SELECT r.id, {SQL_STATUS} AS status, r.ordem_id, r.expira_em,"
        "       (SELECT json_agg(json_build_object('livro_id', ri.livro_id, 'quantidade', ri.quantidade,"
        "                                          'preco_unitario', ri.preco_unitario) ORDER BY ri.livro_id)"
        "          FROM reserva_itens ri WHERE ri.reserva_id = r.id) AS itens"
        "  FROM reservas r WHERE r.id = %s",
        (reserva_id,),
    ).fetchone()
    return _com_total(reserva) if reserva else None


def reservar(cursor, itens: list[dict], ordem_id: int | None, ttl_segundos: int) -> dict:
    """Reserva todos os itens ou nenhum e devolve a reserva criada.
    Levanta 404/409 sem gravar nada."""
    ids = sorted(item["livro_id"] for item in itens)
    # Falta de estoque é um desfecho do negócio, não um erro do sistema: o span
    # não vira ERROR por causa dela (o resultado vai no atributo).
    with tracer.start_as_current_span("estoque.reservar", record_exception=False,
                                      set_status_on_exception=False) as span:
        span.set_attributes({"bookstore.livro.ids": ids, "bookstore.ordem.id": ordem_id or 0,
                             "bookstore.reserva.quantidade": sum(i["quantidade"] for i in itens)})
        try:
            reserva = _reservar(cursor, span, itens, ids, ordem_id, ttl_segundos)
        except ErroAPI as erro:
            resultado = "livro_inexistente" if erro.status == 404 else "sem_estoque"
            span.set_attribute("bookstore.reserva.resultado", resultado)
            contador_de_reservas.add(1, {"bookstore.reserva.resultado": resultado})
            raise
        span.set_attributes({"bookstore.reserva.resultado": "criada", "bookstore.reserva.id": str(reserva["id"])})
        contador_de_reservas.add(1, {"bookstore.reserva.resultado": "criada"})
        return reserva


def _reservar(cursor, span, itens, ids, ordem_id, ttl_segundos) -> dict:
    livros = cursor.execute(
        "SELECT id, preco FROM livros WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (ids,)
    ).fetchall()
    # No Jaeger, a duração do SELECT ... FOR UPDATE acima é o tempo de espera
    # pelo lock: numa corrida pelo último exemplar, é ali que os compradores fazem fila.
    span.add_event("bookstore.estoque.travado", {"bookstore.livro.ids": ids})
    precos = {livro["id"]: livro["preco"] for livro in livros}
    for item in itens:
        if item["livro_id"] not in precos:
            raise NaoEncontrado("livro não encontrado", livro_id=item["livro_id"])

    disponivel = {
        linha["id"]: linha["estoque"]
        for linha in cursor.execute(
            "SELECT id, estoque FROM livros_disponiveis WHERE id = ANY(%s)", (ids,)
        ).fetchall()
    }
    for item in itens:
        if disponivel[item["livro_id"]] < item["quantidade"]:
            raise ErroAPI(409, f"estoque insuficiente para o livro {item['livro_id']}",
                          livro_id=item["livro_id"], disponivel=disponivel[item["livro_id"]])

    # A reserva devolvida é montada com o que já está na mão (sem reler o banco).
    reserva = cursor.execute(
        "INSERT INTO reservas (id, status, ordem_id, expira_em)"
        " VALUES (%s, 'ativa', %s, clock_timestamp() + make_interval(secs => %s))"
        " RETURNING id, status, ordem_id, expira_em",
        (uuid.uuid4(), ordem_id, ttl_segundos),
    ).fetchone()
    reserva["itens"] = [
        {"livro_id": i["livro_id"], "quantidade": i["quantidade"], "preco_unitario": precos[i["livro_id"]]}
        for i in sorted(itens, key=lambda item: item["livro_id"])
    ]
    cursor.executemany(
        "INSERT INTO reserva_itens (reserva_id, livro_id, quantidade, preco_unitario)"
        " VALUES (%s, %s, %s, %s)",
        [(reserva["id"], i["livro_id"], i["quantidade"], i["preco_unitario"]) for i in reserva["itens"]],
    )
    return _com_total(reserva)


def confirmar(cursor, reserva_id: uuid.UUID) -> None:
    """Baixa o estoque físico. Idempotente; 410 se venceu, 409 se foi cancelada."""
    reserva = cursor.execute(
        "SELECT status FROM reservas WHERE id = %s FOR UPDATE", (reserva_id,)
    ).fetchone()
    if reserva is None:
        raise NaoEncontrado("reserva não encontrada")
    if reserva["status"] == "confirmada":
        return
    if reserva["status"] == "cancelada":
        raise ErroAPI(409, "reserva cancelada não pode ser confirmada")

    cursor.execute(
        "SELECT l.id FROM livros l JOIN reserva_itens ri ON ri.livro_id = l.id"
        " WHERE ri.reserva_id = %s ORDER BY l.id FOR UPDATE OF l",
        (reserva_id,),
    )
    vencida = cursor.execute(
        "SELECT expira_em <= clock_timestamp() AS vencida FROM reservas WHERE id = %s",
        (reserva_id,),
    ).fetchone()["vencida"]
    if vencida:
        contador_de_reservas.add(1, {"bookstore.reserva.resultado": "expirada"})
        raise ErroAPI(410, "reserva expirada: o estoque já voltou à venda")

    # A baixa do estoque e a confirmação num comando só (um span de SQL a menos).
    cursor.execute(
        "WITH baixa AS ("
        "   UPDATE livros l SET estoque_fisico = l.estoque_fisico - ri.quantidade"
        "     FROM reserva_itens ri WHERE ri.reserva_id = %(id)s AND l.id = ri.livro_id)"
        " UPDATE reservas SET status = 'confirmada' WHERE id = %(id)s",
        {"id": reserva_id},
    )
    contador_de_reservas.add(1, {"bookstore.reserva.resultado": "confirmada"})


def cancelar(cursor, reserva_id: uuid.UUID) -> None:
    """Devolve o estoque. Idempotente: como o disponível é calculado a partir das
    reservas ativas, sair de 'ativa' devolve os exemplares exatamente uma vez (e
    uma reserva já vencida não devolve nada de novo). 409 se já foi confirmada."""
    cancelada = cursor.execute(
        "UPDATE reservas SET status = 'cancelada' WHERE id = %s AND status = 'ativa' RETURNING id",
        (reserva_id,),
    ).fetchone()
    if cancelada:
        contador_de_reservas.add(1, {"bookstore.reserva.resultado": "cancelada"})
        return
    atual = cursor.execute("SELECT status FROM reservas WHERE id = %s", (reserva_id,)).fetchone()
    if atual is None:
        raise NaoEncontrado("reserva não encontrada")
    if atual["status"] == "confirmada":
        raise ErroAPI(409, "reserva confirmada não pode ser cancelada")
