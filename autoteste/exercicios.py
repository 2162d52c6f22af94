"""O contrato de um exercício, e onde achar cada um.

Cada pasta `exercises/NN-nome/` tem:
- `README.md`, o texto para o aluno;
- `confere.py`, o autoteste: `TIPO` (um de TIPOS) e `conferir(fonte, resposta) -> list[Criterio]`;
- `solucao.py`, o que o aluno faz, para a suíte provar que o autoteste passa depois:
  `acoes(contexto: Contexto) -> str` devolve a resposta que o aluno daria (ou "");
  nos que pedem RESPOSTA, `resposta(contexto) -> str` é só a parte de ler (o aluno achando o id no
  terminal ou no Jaeger): a suíte a usa também ao fazer o exercício pelos blocos do README;
  nos exercícios que mudam código ou configuração, também `ALTERACOES` (e, no 02, `QUEBRA`):
  os trechos trocados, de que `make solucoes` gera `solucao.patch` (e `quebra.patch`);
- conforme o tipo, `solucao.env` (o ambiente do `make local`) ou `solucao.yaml` (a config do Collector).

Como mudar um exercício: exercises/INSTRUTOR.md, "Como mudar um exercício".
"""
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

PASTA = Path(__file__).resolve().parent.parent / "exercises"

# O que o aluno faz, e com isso como a suíte prova o autoteste (tests/test_exercicios.py).
TIPOS = {
    "observar": "olha a telemetria do laboratório como ele é (e às vezes liga uma falha)",
    "codigo": "muda o código dos serviços (ALTERACOES → solucao.patch) e reinicia",
    "ambiente": "sobe o laboratório de outro jeito (solucao.env, ex.: ZERO_CODE=pagamentos)",
    "configurar": "muda a configuração do laboratório inteiro (otel.env, por ALTERACOES)",
    "collector": "muda a config do Collector (solucao.yaml)",
    "medir": "mede com o make bench e lê o que ficou guardado",
    "gateway": "observa o laboratório com o gateway e as réplicas (GATEWAY=true make local)",
    "mensagens": "observa a compra pelo RabbitMQ (ORDENS_SAGA=mensagens make local)",
}


class Criterio(NamedTuple):
    """Uma linha do autoteste: ✔/✘, o que se confere e, no ✘, o que fazer."""
    ok: bool
    texto: str
    dica: str


@dataclass(frozen=True)
class Contexto:
    """O que as `acoes` de um solucao.py recebem: onde está o laboratório e de onde ler."""
    urls: dict          # serviço → URL
    fonte: object       # a fonte de telemetria (telemetria_local.fontes)
    ambiente: dict      # o ambiente de quem roda (o do laboratório em teste)
    saida: str = ""     # o que os comandos do aluno imprimiram até aqui (a tabela do make bench, no 16)


def pasta_do_exercicio(numero: str) -> Path | None:
    achadas = sorted(PASTA.glob(f"{int(numero):02d}-*/confere.py")) if numero.isdigit() else []
    return achadas[0].parent if achadas else None


def com_autoteste() -> list[Path]:
    return sorted(caminho.parent for caminho in PASTA.glob("*/confere.py"))


def carregar(pasta: Path, arquivo: str = "confere"):
    """O módulo `<pasta>/<arquivo>.py` (as pastas têm hífen no nome: não são pacotes)."""
    especificacao = importlib.util.spec_from_file_location(f"{arquivo}_{pasta.name.replace('-', '_')}",
                                                           Path(pasta) / f"{arquivo}.py")
    modulo = importlib.util.module_from_spec(especificacao)
    especificacao.loader.exec_module(modulo)
    return modulo


def tipo(pasta: Path) -> str:
    declarado = carregar(pasta).TIPO
    assert declarado in TIPOS, f"{pasta.name}: TIPO = {declarado!r}, use um de {', '.join(TIPOS)}"
    return declarado
