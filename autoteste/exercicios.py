"""Onde ficam os exercícios e como carregar o `confere.py` (e o `solucao.py`) de cada um."""
import importlib.util
from pathlib import Path

PASTA = Path(__file__).resolve().parent.parent / "exercises"


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
