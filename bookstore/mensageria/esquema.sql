-- A outbox e a inbox da compra por mensagens (bookstore/mensageria), iguais nos três serviços.
-- Idempotente (ver bookstore/db.py). Existem também com ORDENS_SAGA=http: vazias, não custam nada.

-- Mensagens a publicar: gravadas na MESMA transação do efeito que as gera (a ordem criada, a
-- reserva feita), publicadas depois pelo relay. `contexto` guarda o traceparent e o baggage de
-- quem gravou: o relay publica dentro do trace da requisição (ou da mensagem) que a gerou.
CREATE TABLE IF NOT EXISTS mensagens_a_enviar (
    id            UUID        PRIMARY KEY,          -- o message_id no broker
    destino       TEXT        NOT NULL,             -- a routing key (livros.reservar, ordens.pagamento…)
    corpo         JSONB       NOT NULL,
    contexto      JSONB       NOT NULL DEFAULT '{}',
    conversa      TEXT,                             -- o correlation_id: a ordem da compra
    origem        UUID,                             -- a mensagem recebida que a gerou (resposta)
    criada_em     TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    publicada_em  TIMESTAMPTZ,
    envios        INTEGER     NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS mensagens_a_enviar_pendentes ON mensagens_a_enviar (criada_em)
    WHERE publicada_em IS NULL;
CREATE INDEX IF NOT EXISTS mensagens_a_enviar_por_origem ON mensagens_a_enviar (origem)
    WHERE origem IS NOT NULL;

-- O relay espera por isto (LISTEN) em vez de consultar a tabela a cada instante. O NOTIFY só é
-- entregue no commit: o relay nunca acorda para uma mensagem que ainda pode sofrer rollback.
CREATE OR REPLACE FUNCTION avisar_relay() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('mensagens_a_enviar', '');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER avisar_relay_ao_gravar
    AFTER INSERT OR UPDATE OF publicada_em ON mensagens_a_enviar
    FOR EACH STATEMENT EXECUTE FUNCTION avisar_relay();

-- Mensagens já processadas (inbox): a linha é gravada na transação do efeito, então "processada"
-- e "efeito feito" são a mesma coisa. Uma entrega repetida (o relay publicou de novo, o consumidor
-- morreu antes do ack) encontra a linha e não refaz nada.
CREATE TABLE IF NOT EXISTS mensagens_recebidas (
    id           UUID        PRIMARY KEY,           -- o message_id de quem publicou
    destino      TEXT        NOT NULL,
    recebida_em  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    repeticoes   INTEGER     NOT NULL DEFAULT 0
);
