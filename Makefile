# Comandos do laboratório. `make test` parte do zero: cria o virtualenv e instala tudo.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.instalado

.PHONY: test curso ferramentas local traces metricas confere restaura incidente incidentes diagnostico carga medir-pilha bench perfil caos cenarios solucoes capturas clean

# O virtualenv é refeito quando as listas de dependências mudam.
$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

## make ferramentas: constrói com Go o Collector, o Jaeger, o Prometheus (e a interface dele, com npm), o VictoriaLogs e o visualizador de traces (pilha/construir.sh) em .ferramentas/; nada a fazer se em dia.
ferramentas:
	pilha/construir.sh

## make test: a suíte inteira (PostgreSQL embutido, serviços reais sob gunicorn, OTLP real, a pilha real, RabbitMQ real).
# Antes, a pilha real: com CI=true, sem Go ou com o build falhando o make test FALHA (o CI prova a pilha);
# fora do CI, segue, e os testes dela são pulados dizendo o que falta.
test: $(STAMP)
	@./scripts/preparar-rabbitmq.sh
	@./scripts/preparar-navegador.sh
	@pilha/construir.sh || { [ "$$CI" != true ] && echo "pilha real não construída: os testes dela serão pulados (make ferramentas; precisa do Go)"; }
	$(BIN)/python -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

## make curso: o curso inteiro em ordem de aula, num laboratório só, na pilha real (tests/test_curso_em_ordem.py), e cada incidente do make incidente (tests/test_incidentes.py); o CI roda depois do make test.
curso: $(STAMP)
	@./scripts/preparar-rabbitmq.sh
	@pilha/construir.sh
	$(BIN)/python -m pytest --curso -m turma tests/test_curso_em_ordem.py tests/test_incidentes.py $(PYTEST_ARGS)

## make local: os três serviços em 127.0.0.1:8081-8083 e um receptor OTLP em 4317/4318, sem Docker (ORDENS_SAGA=mensagens: + RabbitMQ).
local: $(STAMP)
	$(BIN)/python -m modo_local

## make traces: os últimos N traces que o make local guardou; com TRACE=<id>, a árvore de um.
N ?= 10
traces: $(STAMP)
	@$(BIN)/python -m telemetria_local -n $(N) $(TRACE)

## make metricas: as métricas que chegaram (nome, tipo, unidade, serviços): do Prometheus com a pilha real, senão do receptor local.
metricas: $(STAMP)
	@$(BIN)/python -m telemetria_local --metricas

## make confere EX=04 [RESPOSTA=...]: o autoteste de um exercício (✔/✘ por critério, com dicas).
confere: $(STAMP)
	@$(BIN)/python -m autoteste $(EX) $(if $(RESPOSTA),--resposta '$(RESPOSTA)')

## make restaura: o laboratório de volta ao dele, para o próximo exercício: a config do Collector, o otel.env e o código que os exercícios mudam (git), e as falhas desligadas.
restaura: $(STAMP)
	@$(BIN)/python -m ferramentas.restaura

## make incidente [SEMENTE=n] [NOME=…]: um incidente escondido no make local no ar (game day); RESPOSTA='<serviço> <causa>' EVIDENCIA=<trace_id> avalia; FIM=1 encerra (make restaura) e diz a resposta.
incidente: $(STAMP)
	@$(BIN)/python -m incidentes $(if $(SEMENTE),--semente '$(SEMENTE)') $(if $(NOME),--nome '$(NOME)') $(if $(RESPOSTA),--resposta '$(RESPOSTA)') $(if $(EVIDENCIA),--evidencia '$(EVIDENCIA)') $(if $(FIM),--fim)

## make incidentes: o catálogo dos incidentes (para o instrutor) e o vocabulário das respostas.
incidentes: $(STAMP)
	@$(BIN)/python -m incidentes --listar

## make diagnostico: "não aparece trace": portas, /ready, Collector, uma compra achada no Jaeger (ou no receptor local).
diagnostico: $(STAMP)
	@$(BIN)/python -m ferramentas.diagnostico

## make carga: Locust sem interface contra o laboratório no ar (USUARIOS, TAXA por segundo, DURACAO).
USUARIOS ?= 10
TAXA ?= 2
DURACAO ?= 60s
carga: $(STAMP)
	$(BIN)/locust -f carga/locustfile.py --headless --only-summary -u $(USUARIOS) -r $(TAXA) -t $(DURACAO)

## make medir-pilha: pico de memória do Collector, do Jaeger e do Prometheus sob a carga de uma turma (USUARIOS=30, DURACAO=120s), contra o orçamento do compose.
medir-pilha: $(STAMP)
	$(BIN)/python -m ferramentas.medir_pilha --usuarios $(if $(filter file,$(origin USUARIOS)),30,$(USUARIOS)) --duracao $(if $(filter file,$(origin DURACAO)),120s,$(DURACAO))

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

## make capturas: sobe um laboratório próprio com a pilha real, compra e regrava as capturas de tela de cada página em docs/capturas/ (Chromium).
capturas: $(STAMP)
	$(BIN)/python -m ferramentas.capturas

## make cenarios: roda os cenários de curl do README contra um laboratório já no ar.
cenarios:
	./scripts/cenarios.sh

clean:
	rm -rf $(VENV) .pytest_cache .dados-locais .telemetria
