# Comandos do laboratório. `make test` parte do zero: cria o virtualenv e instala tudo.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.instalado

.PHONY: test local traces metricas confere diagnostico carga bench perfil caos cenarios solucoes clean

# O virtualenv é refeito quando as listas de dependências mudam.
$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## make test: a suíte inteira (PostgreSQL embutido, serviços reais sob gunicorn, OTLP real, RabbitMQ real).
test: $(STAMP)
	@./scripts/preparar-rabbitmq.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make local: os três serviços em 127.0.0.1:8081-8083 e um receptor OTLP em 4317/4318, sem Docker (ORDENS_SAGA=mensagens: + RabbitMQ).
local: $(STAMP)
	$(BIN)/python -m modo_local

## make traces: os últimos N traces que o make local guardou; com TRACE=<id>, a árvore de um.
N ?= 10
traces: $(STAMP)
	@$(BIN)/python -m telemetria_local -n $(N) $(TRACE)

## make metricas: as métricas que o make local recebeu (nome, tipo, unidade, serviços).
metricas: $(STAMP)
	@$(BIN)/python -m telemetria_local --metricas

## make confere EX=04 [RESPOSTA=...]: o autoteste de um exercício (✔/✘ por critério, com dicas).
confere: $(STAMP)
	@$(BIN)/python -m autoteste $(EX) $(if $(RESPOSTA),--resposta '$(RESPOSTA)')

## make diagnostico: "não aparece trace": portas, /ready, Collector, uma compra achada no Jaeger (ou no receptor local).
diagnostico: $(STAMP)
	@$(BIN)/python -m ferramentas.diagnostico

## make carga: Locust sem interface contra o laboratório no ar (USUARIOS, TAXA por segundo, DURACAO).
USUARIOS ?= 10
TAXA ?= 2
DURACAO ?= 60s
carga: $(STAMP)
	$(BIN)/locust -f carga/locustfile.py --headless --only-summary -u $(USUARIOS) -r $(TAXA) -t $(DURACAO)

## make bench: custo da instrumentação: sem instrumentação × SDK desligado × instrumentado (~3 min; BENCH_AMOSTRAGEM=0.1 acrescenta uma coluna com 10% dos traces).
bench: $(STAMP)
	$(BIN)/python -m ferramentas.bench

## make perfil: onde vai a CPU da telemetria numa compra, por componente (py-spy nos workers, ~1 min).
perfil: $(STAMP)
	$(BIN)/python -m ferramentas.perfil

## make caos: compras sob falhas (workers mortos, conexões derrubadas, latência, erros) e a conta no fim.
caos: $(STAMP)
	$(BIN)/python -m ferramentas.caos

## make solucoes: regera os .patch dos exercícios a partir dos trechos em cada solucao.py (depois de mudar o código).
solucoes: $(STAMP)
	@$(BIN)/python -m autoteste.solucoes

## make cenarios: roda os cenários de curl do README contra um laboratório já no ar.
cenarios:
	./scripts/cenarios.sh

clean:
	rm -rf $(VENV) .pytest_cache .dados-locais .telemetria
