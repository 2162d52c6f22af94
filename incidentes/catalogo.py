"""Os incidentes: o que cada um faz no laboratório, qual é a resposta e como o trace de evidência se reconhece.

Cada incidente é um gatilho no banco de um serviço (PL/pgSQL), com um nome que um time poderia ter dado a
ele de verdade (uma auditoria, uma validação): é o tipo de mudança que chega à produção sem passar pelo
código do serviço, e a telemetria é o único lugar em que ela aparece. `desfazer` o tira; o `make restaura`
desfaz qualquer um (ferramentas/restaura.py).
"""
from dataclasses import dataclass
from typing import Callable

from telemetria_local.otlp import STATUS_ERRO

# O que se pode responder. Os serviços incluem as peças da pilha: "o Collector perdeu" é uma resposta possível.
SERVICOS = ("livros", "ordens", "pagamentos", "postgres", "rabbitmq", "gateway", "collector", "jaeger", "prometheus")
CAUSAS = {
    "consulta-lenta": "uma consulta SQL demorando",
    "faixa-de-cartoes": "erro só para uma faixa de cartões",
    "erro-no-banco": "o banco recusando parte das escritas",
    "bloqueio": "espera por um lock no banco",
    "consumidor-parado": "uma fila sem consumidor",
    "mensagem-envenenada": "mensagens que o consumidor não aceita",
    "contexto-perdido": "o contexto do trace se perde num serviço",
    "amostragem": "traces cortados pela amostragem",
    "sinal-perdido": "um sinal não chega ao destino",
    "replica-fora": "uma réplica fora do ar",
}


def _ms(span: dict) -> float:
    return (span["fim_ns"] - span["inicio_ns"]) / 1e6


def sql_lenta(servico: str, tabela: str, minimo_ms: float) -> Callable[[list[dict]], bool]:
    """O trace tem um INSERT de `servico` na `tabela` que levou `minimo_ms` ou mais."""
    def mostra(spans):
        return any(s["servico"] == servico and "db.system" in s["atributos"] and _ms(s) >= minimo_ms
                   and tabela in str(s["atributos"].get("db.statement", "")) + s["nome"] for s in spans)
    return mostra


def erro_no_banco(servico: str) -> Callable[[list[dict]], bool]:
    """O trace tem um span SQL de `servico` com erro."""
    def mostra(spans):
        return any(s["servico"] == servico and "db.system" in s["atributos"] and s["status"] == STATUS_ERRO
                   for s in spans)
    return mostra


def _gatilho(tabela: str, funcao: str, corpo: str, quando: str = "BEFORE INSERT") -> tuple[str, str]:
    instalar = f"""
        CREATE OR REPLACE FUNCTION {funcao}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {corpo} RETURN NEW; END $$;
        DROP TRIGGER IF EXISTS {funcao} ON {tabela};
        CREATE TRIGGER {funcao} {quando} ON {tabela} FOR EACH ROW EXECUTE FUNCTION {funcao}();"""
    desfazer = f"DROP TRIGGER IF EXISTS {funcao} ON {tabela}; DROP FUNCTION IF EXISTS {funcao}();"
    return instalar, desfazer


@dataclass(frozen=True)
class Incidente:
    nome: str
    descricao: str  # para o instrutor (make incidentes); nunca mostrada enquanto o incidente roda
    servico: str
    causa: str
    banco: str  # o banco do serviço em que o gatilho fica
    gatilho: tuple[str, str]  # (instalar, desfazer)
    mostra: Callable[[list[dict]], bool]  # o trace de evidência mostra o sintoma?
    evidencia: str  # como é o trace de evidência (dito no FIM=1)
    onde_olhar: str  # a dica de quando o serviço está errado: onde procurar, nunca a resposta
    sinais: str  # onde o sintoma aparece (pelo menos dois sinais)
    alerta: str | None  # o alerta de prometheus/alertas.yml que dispara, ou None (um incidente mudo)
    ensina: str

    @property
    def resposta(self) -> str:
        return f"{self.servico} {self.causa}"


# Nesta ordem o make curso os roda (tests/test_incidentes.py): dois seguidos nunca esperam o mesmo alerta
# do mesmo serviço, que ainda estaria disparando pelo anterior; e o do SLO vem primeiro, porque a janela
# longa dele (5 min) guarda as falhas de qualquer incidente que fizesse ordens falharem antes.
CATALOGO = (
    Incidente(
        "confirmacao-falhando", "metade das confirmações de reserva falha no banco de livros (gatilho em reservas)",
        "livros", "erro-no-banco", "livros",
        _gatilho("reservas", "conferir_confirmacao",
                 "IF NEW.status = 'confirmada' AND random() < 0.5 THEN "
                 "RAISE EXCEPTION 'confirmação recusada pela conferência de estoque'; END IF;",
                 quando="BEFORE UPDATE"),
        erro_no_banco("livros"),
        "uma compra cujo UPDATE reservas em livros falha na confirmação, e ordens estorna o pagamento",
        "Num trace com erro, qual é o primeiro span vermelho, e o que a saga faz depois dele?",
        "traces (o erro e a compensação: o estorno), métricas (erros de livros, SLO da compra), logs", "SLODaCompraQueimaRapida",
        "a compensação aparece no trace: o pagamento aprovado e depois estornado"),
    Incidente(
        "consulta-lenta-ordens", "cada linha do histórico de uma ordem espera 150 ms (gatilho em ordem_historico)",
        "ordens", "consulta-lenta", "ordens",
        _gatilho("ordem_historico", "auditar_historico", "PERFORM pg_sleep(0.15);"),
        # O histórico é gravado por um gatilho do próprio esquema de ordens a cada INSERT/UPDATE em ordens:
        # o que o aluno vê lento é o UPDATE ordens, e a causa está no que ele dispara.
        sql_lenta("ordens", "ordens", 120),
        "uma compra com vários UPDATE ordens de ~150 ms em ordens (cada um grava o histórico), entre as chamadas "
        "aos outros serviços",
        "Num trace lento, o tempo está nas chamadas HTTP a livros e pagamentos ou entre elas?",
        "traces (vários spans SQL pequenos), métricas (p95 só de ordens)", "ServicoLento",
        "muitos spans curtos somam: o lento não é sempre um span só"),
    Incidente(
        "cartoes-de-uma-faixa", "pagamentos recusa com erro os cartões terminados em 4444 (uma validação de bandeira)",
        "pagamentos", "faixa-de-cartoes", "pagamentos",
        _gatilho("pagamentos", "validar_bandeira",
                 "IF NEW.cartao_final = '4444' THEN RAISE EXCEPTION 'bandeira não homologada'; END IF;"),
        erro_no_banco("pagamentos"),
        "uma compra com cartão final 4444 cujo INSERT em pagamentos falha ('bandeira não homologada') e a ordem falha",
        "Compare os traces com erro e os sem erro: o que os de erro têm em comum (atributos, cartão, livro)?",
        "traces (o erro e o bookstore.cartao.final), métricas (erros de pagamentos, ordens falhou), logs", "ServicoComErros",
        "um erro que atinge só parte das compras se acha comparando atributos, não olhando um trace só"),
    Incidente(
        "consulta-lenta-pagamentos", "cada INSERT em pagamentos espera 400 ms (um gatilho de auditoria lento)",
        "pagamentos", "consulta-lenta", "pagamentos",
        _gatilho("pagamentos", "auditar_pagamento", "PERFORM pg_sleep(0.4);"),
        sql_lenta("pagamentos", "pagamentos", 350),
        "uma compra cujo span INSERT pagamentos leva ~400 ms, dentro do POST /pagamentos",
        "Abra um trace de compra lento no Jaeger e compare a duração de cada serviço: qual span ocupa o tempo?",
        "traces (o span SQL), métricas (p95 de pagamentos e de ordens, que espera)", "ServicoLento",
        "a latência de quem chama (ordens) é a de quem é chamado: o trace diz de quem é"),
    Incidente(
        "consulta-lenta-livros", "cada reserva nova espera 400 ms no INSERT (gatilho de auditoria em reservas)",
        "livros", "consulta-lenta", "livros",
        _gatilho("reservas", "auditar_reserva", "PERFORM pg_sleep(0.4);"),
        sql_lenta("livros", "reservas", 350),
        "uma compra cujo span INSERT reservas (livros) leva ~400 ms, dentro do POST /reservas",
        "Abra um trace de compra lento no Jaeger e compare a duração de cada serviço: qual span ocupa o tempo?",
        "traces (o span SQL), métricas (p95 de livros e de ordens)", "ServicoLento",
        "o mesmo sintoma no topo (a compra lenta) com outra causa embaixo: só o trace separa os dois"),
)

POR_NOME = {incidente.nome: incidente for incidente in CATALOGO}
