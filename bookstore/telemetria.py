"""Telemetria (OpenTelemetry). Preenchido no issue de telemetria."""


def instrumentar_app(app) -> None:
    return None
