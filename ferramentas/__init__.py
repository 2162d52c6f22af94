"""As ferramentas do laboratório, cada uma um `python -m ferramentas.<nome>` (e um alvo do make).

- `diagnostico` — "não aparece trace": portas, /ready, uma compra achada onde a telemetria está;
- `bench` — o custo da instrumentação, lado a lado (e `bench_unitario`, o custo de cada peça);
- `perfil` — onde vai a CPU da telemetria (py-spy nos workers);
- `caos` — compras sob falhas e a conta no fim.

As peças que mais de uma usa têm módulo próprio: `invariantes` (a conta nos três bancos),
`medicoes` (as medições do bench em .bench/, lidas também pelo exercício 16); os processos e a
CPU ficam em `supervisao/` (portas.py, proc.py), e as fontes de telemetria em `telemetria_local/fontes.py`.
Nenhuma ferramenta importa outra, e nenhuma lê o ambiente ao ser importada.
"""
