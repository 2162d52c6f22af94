"""A estrutura do laboratório se mantém: uma topologia, uma tabela de configuração, ferramentas
que não dependem umas das outras. Testes de leitura do código (ast), rápidos, sem processos."""
import ast
import re
from pathlib import Path

import pytest

from autoteste import solucoes
from autoteste.exercicios import TIPOS, carregar, com_autoteste, tipo
from bookstore import config, topologia
from bookstore.config import RAIZ
from tests.apoio import explicar, rodar

PASTAS_DE_CODIGO = ("bookstore", "livros", "ordens", "pagamentos", "modo_local", "ferramentas", "telemetria_local",
                    "supervisao", "autoteste", "exercises", "tests", "carga")


def modulos() -> list[Path]:
    return sorted(arquivo for pasta in PASTAS_DE_CODIGO for arquivo in (RAIZ / pasta).rglob("*.py"))


def constantes(arvore: ast.AST):
    """As constantes do código, sem as docstrings (texto para quem lê, como a documentação)."""
    docstrings = {id(no.value) for no in ast.walk(arvore)
                  if isinstance(no, ast.Expr) and isinstance(no.value, ast.Constant) and isinstance(no.value.value, str)}
    return [no for no in ast.walk(arvore) if isinstance(no, ast.Constant) and id(no) not in docstrings]


PORTAS = {processo.porta for processo in topologia.PROCESSOS.values()}
LISTA_DE_SERVICOS = re.compile(r"""["'](livros|ordens|pagamentos)["']\s*,\s*["'](livros|ordens|pagamentos)["']\s*,"""
                               r"""\s*["'](livros|ordens|pagamentos)["']""")


# A topologia; o gerador de carga, que roda também na imagem do Locust, sem o código do laboratório;
# e este arquivo, que tem exemplos do que a regra pega.
ESCREVEM_PORTAS = {RAIZ / "bookstore" / "topologia.py", RAIZ / "carga" / "locustfile.py", Path(__file__).resolve()}


def test_so_a_topologia_escreve_portas_e_a_lista_de_servicos():
    """Acrescentar um processo = uma entrada em bookstore/topologia.py. A documentação, o compose e as
    configs YAML repetem as portas para quem lê; o código Python, nenhum."""
    achados = []
    for arquivo in modulos():
        if arquivo in ESCREVEM_PORTAS:
            continue
        fonte = arquivo.read_text(encoding="utf-8")
        for no in constantes(ast.parse(fonte)):
            valor = no.value
            if (isinstance(valor, int) and not isinstance(valor, bool) and valor in PORTAS) or (
                    isinstance(valor, str) and any(re.search(rf":{porta}\b", valor) for porta in PORTAS)):
                achados.append(f"{arquivo.relative_to(RAIZ)}:{no.lineno}: {valor!r}")
        for linha, texto in enumerate(fonte.splitlines(), 1):
            if LISTA_DE_SERVICOS.search(texto):
                achados.append(f"{arquivo.relative_to(RAIZ)}:{linha}: lista dos serviços escrita à mão")
    assert achados == []


def test_a_regra_acima_pega_uma_porta_escrita_a_mao(tmp_path):
    errado = ast.parse('URL = "http://127.0.0.1:8082/ordens"\nPORTA = 4318\n')
    assert [no.value for no in constantes(errado)] == ["http://127.0.0.1:8082/ordens", 4318]
    assert LISTA_DE_SERVICOS.search('for s in ("livros", "ordens", "pagamentos"):')


def leituras_do_ambiente(arvore: ast.AST) -> list[int]:
    """Linhas que leem uma variável de ambiente direto (os.environ.get/[...], os.getenv).
    Passar o ambiente inteiro a um processo filho (`**os.environ`) não é ler uma variável."""
    linhas = []
    for no in ast.walk(arvore):
        if isinstance(no, ast.Call) and isinstance(no.func, ast.Attribute):
            alvo = ast.unparse(no.func)
            if alvo in ("os.environ.get", "os.getenv", "environ.get"):
                linhas.append(no.lineno)
        if isinstance(no, ast.Subscript) and ast.unparse(no.value) == "os.environ" and isinstance(no.ctx, ast.Load):
            linhas.append(no.lineno)
    return linhas


# Quem pode ler o ambiente sem a tabela: a própria tabela, e o gerador de carga (o mesmo motivo).
LEEM_O_AMBIENTE = {RAIZ / "bookstore" / "config.py", RAIZ / "carga" / "locustfile.py"}


def test_toda_leitura_de_variavel_passa_pela_tabela_de_configuracao():
    achados = [f"{arquivo.relative_to(RAIZ)}:{linha}" for arquivo in modulos() if arquivo not in LEEM_O_AMBIENTE
               and not arquivo.is_relative_to(RAIZ / "tests")
               for linha in leituras_do_ambiente(ast.parse(arquivo.read_text(encoding="utf-8")))]
    assert achados == []


def test_toda_variavel_da_tabela_e_lida_por_alguem():
    codigo = "\n".join(arquivo.read_text(encoding="utf-8") for arquivo in modulos()
                       if arquivo != RAIZ / "bookstore" / "config.py")
    por_topologia = {p.variavel for p in topologia.PROCESSOS.values()} | {
        p.variavel_url for p in topologia.PROCESSOS.values() if p.variavel_url} | {
        p.variavel_ambiente for p in topologia.SERVICOS_DO_LAB}
    caddyfile = (RAIZ / "gateway" / "Caddyfile").read_text(encoding="utf-8")  # {$GATEWAY_LIVROS}…
    sem_leitor = [nome for nome in config.VARIAVEIS if nome not in por_topologia and f'"{nome}"' not in codigo
                  and "{$" + nome not in caddyfile
                  and not nome.startswith("OTEL_EXPORTER_OTLP_") and nome != "ORDENS_URL"]
    assert sem_leitor == []


def test_tabela_do_readme_e_a_que_python_m_bookstore_config_imprime():
    """O README diz que a tabela vem deste comando: rodado como está escrito lá."""
    readme = (RAIZ / "README.md").read_text(encoding="utf-8")
    assert "python -m bookstore.config" in readme
    resultado = rodar([str(Path(__import__("sys").executable)), "-m", "bookstore.config"], cwd=RAIZ)
    assert resultado.returncode == 0, explicar(resultado)
    inicio, fim = "<!-- tabela: python -m bookstore.config -->\n", "<!-- fim da tabela -->"
    assert readme.split(inicio, 1)[1].split(fim, 1)[0] == resultado.stdout


def test_variavel_invalida_para_com_uma_mensagem_clara(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "dois")
    with pytest.raises(config.ConfiguracaoInvalida, match="WEB_CONCURRENCY='dois' não é um número inteiro"):
        config.ler("WEB_CONCURRENCY")
    monkeypatch.setenv("WEB_CONCURRENCY", "0")
    with pytest.raises(config.ConfiguracaoInvalida, match="deve ser >= 1"):
        config.ler("WEB_CONCURRENCY")


FERRAMENTAS = {"bench", "perfil", "caos", "diagnostico", "medir_pilha", "capturas"}


def importados(arquivo: Path) -> set[str]:
    nomes = set()
    for no in ast.walk(ast.parse(arquivo.read_text(encoding="utf-8"))):
        if isinstance(no, ast.ImportFrom):
            base = ("ferramentas." if no.level else "") + (no.module or "")
            nomes |= {base} | {f"{base}.{alias.name}".strip(".") for alias in no.names}
        elif isinstance(no, ast.Import):
            nomes |= {alias.name for alias in no.names}
    return nomes


def test_nenhuma_ferramenta_importa_outra():
    for ferramenta in FERRAMENTAS:
        outras = {f"ferramentas.{outra}" for outra in FERRAMENTAS - {ferramenta}}
        assert importados(RAIZ / "ferramentas" / f"{ferramenta}.py") & outras == set(), ferramenta


def test_nada_le_o_ambiente_ao_ser_importado():
    """Ler uma variável no topo do módulo congela o valor no import (e quebra quem importa para
    reusar uma peça, como o autoteste do 16 fazia com o bench). O arquivo de configuração do
    gunicorn é exceção: ele existe para ser lido na hora em que o gunicorn sobe."""
    achados = []
    for arquivo in modulos():
        if arquivo.name == "gunicorn.conf.py" or arquivo.name == "gunicorn_comum.py" or arquivo in LEEM_O_AMBIENTE \
                or arquivo.is_relative_to(RAIZ / "tests"):
            continue
        arvore = ast.parse(arquivo.read_text(encoding="utf-8"))
        for no in arvore.body:
            if isinstance(no, (ast.FunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)):
                continue
            for chamada in ast.walk(no):
                if isinstance(chamada, ast.Call) and ast.unparse(chamada.func) in ("config.ler", "ler"):
                    achados.append(f"{arquivo.relative_to(RAIZ)}:{chamada.lineno}")
    assert achados == []


def test_uma_versao_do_servico():
    escrita = [f"{arquivo.relative_to(RAIZ)}" for arquivo in modulos() if arquivo != RAIZ / "bookstore" / "config.py"
               and config.VERSAO in arquivo.read_text(encoding="utf-8")]
    assert escrita == []
    assert 'attr = "bookstore.config.VERSAO"' in (RAIZ / "pyproject.toml").read_text()


# --- o contrato dos exercícios (autoteste/exercicios.py) ----------------------------------------
EXERCICIOS = com_autoteste()
POR_TIPO = {nome: [pasta for pasta in EXERCICIOS if tipo(pasta) == nome] for nome in TIPOS}
DE_CODIGO, DE_CONFIGURAR = POR_TIPO["codigo"], POR_TIPO["configurar"]
DE_AMBIENTE, DE_COLLECTOR = POR_TIPO["ambiente"], POR_TIPO["collector"]


def test_todo_exercicio_declara_um_tipo_e_tem_o_que_o_tipo_pede():
    assert sum(len(pastas) for pastas in POR_TIPO.values()) == len(EXERCICIOS)
    assert POR_TIPO["observar"] and POR_TIPO["codigo"]
    for pasta in EXERCICIOS:
        assert (pasta / "README.md").exists() and (pasta / "solucao.py").exists() or pasta in DE_COLLECTOR, pasta
    for pasta in DE_CODIGO + DE_CONFIGURAR:
        assert hasattr(carregar(pasta, "solucao"), "ALTERACOES") and (pasta / "solucao.patch").exists(), pasta
    assert all((pasta / "solucao.env").exists() for pasta in DE_AMBIENTE)
    assert all((pasta / "solucao.yaml").exists() for pasta in DE_COLLECTOR)


def test_os_patches_guardados_sao_os_que_make_solucoes_gera_hoje():
    """Uma refatoração que mude um trecho que a solução troca falha aqui, com o nome do arquivo;
    `make solucoes` regera os .patch (exercises/INSTRUTOR.md, "Como mudar um exercício")."""
    esperados = solucoes.patches_esperados()
    # Os de código e de configuração; e os que começam por uma quebra (02, 22) têm também o quebra.patch —
    # o 22, da compra por mensagens, tem as duas coisas.
    com_quebra = [pasta for pasta in EXERCICIOS if (pasta / "quebra.patch").exists()]
    de_mensagens_com_codigo = [pasta for pasta in POR_TIPO["mensagens"]
                               if hasattr(carregar(pasta, "solucao"), "ALTERACOES")]
    assert [p.name[:2] for p in com_quebra] == ["02", "22"] and [p.name[:2] for p in de_mensagens_com_codigo] == ["22"]
    assert len(esperados) == len(DE_CODIGO) + len(DE_CONFIGURAR) + len(de_mensagens_com_codigo) + len(com_quebra)
    for caminho, conteudo in esperados.items():
        assert caminho.read_text(encoding="utf-8") == conteudo, f"{caminho}: rode `make solucoes`"


def test_um_trecho_ancorado_numa_funcao_so_precisa_ser_unico_nela():
    """`em=` procura o trecho só na definição: a linha repetida em outra função não atrapalha, e a função
    que sumiu (renomeada numa refatoração) é dita pelo nome."""
    texto = "def a():\n    return 1\n\n\nclass B:\n    def c(self):\n        return 1\n"
    trocado = solucoes.aplicar(texto, [solucoes.Alteracao("x.py", "        return 1\n", "        return 2\n",
                                                          em="B.c")], "x.py")
    assert trocado == texto.replace("        return 1", "        return 2")
    with pytest.raises(solucoes.TrechoNaoEncontrado, match="aparece 2 vez"):
        solucoes.aplicar(texto, [solucoes.Alteracao("x.py", "return 1\n", "return 2\n")], "x.py")
    with pytest.raises(solucoes.TrechoNaoEncontrado, match="não há mais `B.d`"):
        solucoes.aplicar(texto, [solucoes.Alteracao("x.py", "return 1\n", "return 2\n", em="B.d")], "x.py")


# --- a compra: as regras num lugar, o SQL em outro --------------------------------------------------
ORDENS = RAIZ / "ordens"
# Os exemplos do contrato HTTP (openapi.py) e os nomes dos eventos que ordens recebe (mensagens.py) citam
# status e motivos como texto de documentação e de protocolo; não decidem desfecho nenhum.
CITAM_DESFECHOS = {ORDENS / "regras.py", ORDENS / "openapi.py", ORDENS / "mensagens.py"}


def textos_de_desfecho() -> set[str]:
    from ordens import regras
    fixos = [valor for valor in vars(regras).values() if isinstance(valor, regras.Desfecho)]
    return {d.status for d in fixos} | {d.motivo for d in fixos if d.motivo} | {"pagamento_recusado"}


def desfechos_escritos(arquivos, com_codigos: set[str]) -> list[str]:
    """Onde um arquivo escreve um status ou motivo de desfecho; nos de `com_codigos`, também um 4xx/5xx."""
    textos, achados = textos_de_desfecho(), []
    for arquivo in sorted(arquivos):
        for no in constantes(ast.parse(arquivo.read_text(encoding="utf-8"))):
            codigo = type(no.value) is int and 400 <= no.value < 600 and arquivo.name in com_codigos
            if codigo or no.value in textos:
                achados.append(f"{arquivo.name}:{no.lineno}: {no.value!r}")
    return achados


def test_so_as_regras_escrevem_um_desfecho_da_compra():
    """Status final, motivo e código HTTP de um desfecho só em ordens/regras.py: as duas sagas o pedem lá.
    (Os 4xx de clientes.py e rotas.py são das APIs dos vizinhos e da repetição, não desfechos.)"""
    assert len(textos_de_desfecho()) >= 9
    assert desfechos_escritos(set(ORDENS.glob("*.py")) - CITAM_DESFECHOS,
                              {"saga.py", "orquestrador.py", "repositorio.py", "recuperacao.py"}) == []


def test_a_regra_acima_pega_um_desfecho_escrito_fora_das_regras(tmp_path):
    saga = tmp_path / "saga.py"
    saga.write_text('def f():\n    """falhou (uma docstring não conta)"""\n    return "falhou", "reserva_expirada", 409\n')
    assert desfechos_escritos([saga], {"saga.py"}) == ["saga.py:3: 'falhou'", "saga.py:3: 'reserva_expirada'",
                                                        "saga.py:3: 409"]


def test_so_o_repositorio_fala_sql_em_ordens():
    sql = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b|\.execute\(")
    achados = [f"{arquivo.relative_to(RAIZ)}:{numero}" for arquivo in sorted(ORDENS.glob("*.py"))
               if arquivo.name != "repositorio.py"
               for numero, linha in enumerate(arquivo.read_text(encoding="utf-8").splitlines(), 1) if sql.search(linha)]
    assert achados == []



# Os pacotes do laboratório (tests/ importa todos e ninguém o importa: fica de fora).
PACOTES = sorted(pasta.name for pasta in RAIZ.iterdir() if (pasta / "__init__.py").exists() and pasta.name != "tests")


def dependencias_entre_pacotes() -> dict[str, set[str]]:
    """{pacote: os outros pacotes do laboratório que ele importa}, em qualquer ponto do código (um import
    dentro de uma função também amarra os dois)."""
    grafo = {pacote: set() for pacote in PACOTES}
    for pacote in PACOTES:
        for arquivo in (RAIZ / pacote).rglob("*.py"):
            for no in ast.walk(ast.parse(arquivo.read_text(encoding="utf-8"))):
                if isinstance(no, ast.ImportFrom) and not no.level:  # o relativo fica no mesmo pacote
                    grafo[pacote].add(no.module.split(".")[0])
                elif isinstance(no, ast.Import):
                    grafo[pacote] |= {alias.name.split(".")[0] for alias in no.names}
        grafo[pacote] &= set(PACOTES) - {pacote}
    return grafo


def um_laco(grafo: dict[str, set[str]]) -> list[str]:
    """Um caminho que volta ao começo (a → b → a), ou [] se o grafo não tem laço."""
    def visitar(no, caminho):
        for vizinho in sorted(grafo.get(no, ())):
            if vizinho in caminho:
                return [*caminho[caminho.index(vizinho):], vizinho]
            achado = visitar(vizinho, [*caminho, vizinho])
            if achado:
                return achado
        return []
    return next((laco for inicio in sorted(grafo) if (laco := visitar(inicio, [inicio]))), [])


def test_nenhum_laco_entre_os_pacotes_do_laboratorio():
    """Cada pacote tem uma camada: quem sobe processos (supervisao) não sabe de quem os usa, e o
    lançador (modo_local) usa o receptor (telemetria_local), nunca o contrário."""
    assert um_laco(dependencias_entre_pacotes()) == []


def test_a_regra_acima_pega_um_laco():
    assert um_laco({"modo_local": {"telemetria_local"}, "telemetria_local": {"supervisao", "modo_local"},
                    "supervisao": set()}) == ["modo_local", "telemetria_local", "modo_local"]
    assert um_laco({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_a_topologia_e_so_dado():
    """A topologia não lê o ambiente nem importa nada do laboratório: `config` a lê (sem círculo)."""
    assert {nome.split(".")[0] for nome in importados(RAIZ / "bookstore" / "topologia.py")} <= {"dataclasses"}


def test_so_a_supervisao_sobe_e_derruba_processos():
    """Morrer com o pai, grupo próprio, prazo e SIGKILL estão em supervisao/filho.py; quem lança um
    processo que fica de pé usa o Filho (ou o Vigiado), não o Popen."""
    proibido = re.compile(r"subprocess\.Popen\(|os\.killpg\(|prefixo_morre_com_o_pai\(|prctl\(")
    achados = [f"{arquivo.relative_to(RAIZ)}:{numero}" for arquivo in modulos()
               if not arquivo.is_relative_to(RAIZ / "supervisao") and not arquivo.is_relative_to(RAIZ / "tests")
               and arquivo != RAIZ / "bookstore" / "processo.py"  # o worker do gunicorn liga o PDEATHSIG em si
               for numero, linha in enumerate(arquivo.read_text(encoding="utf-8").splitlines(), 1)
               if proibido.search(linha) and not linha.lstrip().startswith("#")]
    assert achados == []
