-- Injeção de falhas (para os exercícios): uma linha por serviço, no banco do
-- serviço, para que todos os workers e réplicas vejam a mesma configuração.
-- Sem linha, valem FALHA_LATENCIA_MS / FALHA_TAXA_ERRO do ambiente.
CREATE TABLE IF NOT EXISTS falhas (
    id          SMALLINT PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    latencia_ms INTEGER      NOT NULL CHECK (latencia_ms >= 0),
    taxa_erro   NUMERIC(4,3) NOT NULL CHECK (taxa_erro >= 0 AND taxa_erro <= 1),
    alterada_em TIMESTAMPTZ  NOT NULL DEFAULT now()
);
