"""Telemetria local: o papel do Collector + Jaeger quando não há Docker.

- `receptor`: recebe OTLP (HTTP/protobuf na 4318, gRPC na 4317, como o Collector);
- `armazem`: grava cada exportação como uma linha de OTLP/JSON em `.telemetria/`
  (o mesmo formato do exporter `file` do Collector), com tamanho limitado;
- `traces`: agrupa spans em traces, resume um trace numa linha e o desenha em árvore;
- `ao_vivo`: imprime uma linha por trace terminado enquanto o `make local` roda;
- `python -m telemetria_local`: lista os últimos traces do armazém ou mostra um deles.

Os autotestes dos exercícios leem o armazém (modo local) ou o Jaeger (Docker).
"""
