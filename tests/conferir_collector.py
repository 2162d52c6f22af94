"""As regras que toda config do Collector do laboratório segue — a de otel-collector/ e as
soluções dos exercícios de Collector (13, 14), que não rodam aqui e são conferidas no papel."""


def componentes_usados(config: dict, tipo: str) -> set[str]:
    return {c for p in config["service"]["pipelines"].values() for c in p.get(tipo, [])}


def problemas(config: dict) -> list[str]:
    """O que está errado numa config do Collector (lista vazia: nada)."""
    erros = []
    conectores = set(config.get("connectors", {}))
    for tipo in ("receivers", "processors", "exporters"):
        definidos = set(config.get(tipo, {}))
        alcancaveis = definidos | conectores if tipo != "processors" else definidos
        usados = componentes_usados(config, tipo)
        if usados - alcancaveis:
            erros.append(f"{tipo} usados sem definição: {sorted(usados - alcancaveis)}")
        if definidos - usados:
            erros.append(f"{tipo} definidos e não usados: {sorted(definidos - usados)}")
    if set(config["service"].get("extensions", [])) != set(config.get("extensions", {})):
        erros.append("extensions definidas e ligadas em service.extensions não batem")
    for nome, pipeline in config["service"]["pipelines"].items():
        processadores = pipeline.get("processors", [])
        if not processadores or processadores[0] != "memory_limiter":
            erros.append(f"pipeline {nome}: memory_limiter precisa ser o primeiro processador")
        if processadores and processadores[-1] != "batch":
            erros.append(f"pipeline {nome}: batch fica por último (depois de filtrar e transformar)")
    for protocolo in config["receivers"]["otlp"]["protocols"].values():
        if not protocolo["endpoint"].startswith("0.0.0.0:"):
            erros.append("o receiver otlp precisa escutar em 0.0.0.0 dentro do contêiner")
    return erros
