"""Telemetria local: o papel do Collector + Jaeger quando não há Docker.

- `receptor`: recebe OTLP (HTTP protobuf/JSON na 4318, gRPC na 4317, como o Collector);
  `servidor_http` é o HTTP dele (limites e prazos: qualquer processo pode mandar qualquer coisa)
  e `corpo` descomprime e decodifica sem confiar no cliente;
- `servidor` + `processo`: no `make local`, o receptor roda no processo dele, vigiado pelo
  lançador, que sobe outro se ele cair — a queda do receptor não é a do laboratório;
- `armazem`: grava cada exportação como uma linha de OTLP/JSON em `.telemetria/`
  (o mesmo formato do exporter `file` do Collector), com tamanho limitado;
- `traces`: agrupa spans em traces, resume um trace numa linha e o desenha em árvore;
- `ao_vivo`: imprime uma linha por trace terminado enquanto o `make local` roda;
- `em_voo`: quem lê (`make confere`, `make traces`, `make diagnostico`) espera, com prazo, a
  telemetria que ainda está a caminho (lotes de spans, exportação de métricas) antes de julgar;
- `python -m telemetria_local`: lista os últimos traces do armazém ou mostra um deles
  (o que não consegue ler, pula e conta).

Os autotestes dos exercícios leem o armazém (modo local) ou o Jaeger (Docker).
"""
