"""Os comandos do README do laboratório rodados como estão escritos, contra um `make local` de verdade
(os READMEs dos exercícios: tests/test_exercicios.py). Uma seção por teste: o `make local` do texto diz
o laboratório, os outros blocos rodam na ordem com as portas dele (tests/roteiro.py), e o que o texto
promete na saída é conferido."""
import re

import pytest

from autoteste.readme import Passo, passos_do_texto
from bookstore.config import RAIZ
from tests import roteiro
from tests.apoio import esperar, exigir_rabbitmq, explicar
from tests.lancador import ModoLocal

pytestmark = pytest.mark.e2e


def blocos_da_secao(titulo: str) -> list:
    """Os passos (autoteste/readme.py) da seção `## titulo…` do README, até a próxima `## `."""
    texto = (RAIZ / "README.md").read_text(encoding="utf-8")
    inicio = texto.index(f"\n## {titulo}")
    fim = texto.find("\n## ", inicio + 1)
    return passos_do_texto(texto[inicio:fim if fim > 0 else None])


def comandos(passo: Passo) -> list[tuple[Passo, str]]:
    """Cada comando do bloco (com as linhas de continuação `\\`) e o comentário `#` logo abaixo dele — a
    resposta que o texto promete."""
    achados: list[list[str]] = []
    continua = False
    for linha in passo.texto.splitlines():
        if linha.lstrip().startswith("#") and achados:
            achados[-1][1] += linha
        elif continua and achados:
            achados[-1][0] += "\n" + linha
        elif linha.strip():
            achados.append([linha, ""])
        continua = linha.rstrip().endswith("\\")
    return [(Passo("shell", comando), comentario) for comando, comentario in achados]


def test_compre_livros_do_readme_responde_o_que_o_texto_promete(tmp_path):
    """Os curl de "Compre livros" num `make local` novo, na ordem, um por vez: cada `"chave":"valor"` do
    comentário embaixo de um comando está na resposta dele (o 409 do último exemplar, a recusa, o 422,
    o 503 com a falha ligada, a falha só desta compra no baggage)."""
    blocos = [p for p in blocos_da_secao("Compre livros") if p.tipo == "shell"]
    assert len(blocos) == 2, blocos
    with ModoLocal(tmp_path / "telemetria") as lab:
        aluno = roteiro.Aluno(RAIZ, lab, RAIZ, roteiro.pasta_do_make(tmp_path))
        prometidos = 0
        for bloco in blocos:
            for comando, comentario in comandos(bloco):
                feito = aluno.rodar(comando)
                assert feito.returncode == 0, explicar(feito)
                for trecho in re.findall(r'"[^"]+":"[^"]*"', comentario):
                    assert trecho in feito.stdout, f"{comando.texto}\nprometido: {trecho}\n{explicar(feito)}"
                    prometidos += 1
    assert prometidos == 8  # as respostas que o texto mostra (um comentário sem "chave":"valor" não conta)


def test_a_compra_por_mensagens_do_readme_roda_como_esta_escrita(tmp_path):
    exigir_rabbitmq()
    blocos = blocos_da_secao("A compra por mensagens")
    subida, docker, compra, status = [p for p in blocos if p.tipo in ("shell", "fora")][:4]
    assert roteiro.ambiente_do_make_local(subida) == {"ORDENS_SAGA": "mensagens"}, subida
    assert docker.tipo == "fora" and "docker compose --profile mensagens" in docker.texto
    with ModoLocal(tmp_path / "telemetria", ORDENS_SAGA="mensagens") as lab:
        aluno = roteiro.Aluno(RAIZ, lab, RAIZ, roteiro.pasta_do_make(tmp_path))
        feita = aluno.rodar(compra)
        assert feita.returncode == 0 and "HTTP/1.1 202" in feita.stdout, explicar(feita)
        assert "Location: /ordens/" in feita.stdout and '"status":"criada"' in feita.stdout, explicar(feita)

        def concluida():
            lida = aluno.rodar(status)
            assert lida.returncode == 0, explicar(lida)
            return '"status":"concluida"' in lida.stdout and lida
        lida = esperar(concluida, 10, intervalo=0.2, descricao="o GET do Location ver a compra concluída")
    historico = [parte.split('"')[0] for parte in lida.stdout.split('"status":"')[1:]]
    assert historico[-4:] == ["criada", "estoque_reservado", "pagamento_aprovado", "concluida"], lida.stdout


def test_o_gateway_do_readme_roda_como_esta_escrito(tmp_path):
    """`GATEWAY=true make local`, a compra pelo gateway (201 concluida, e a linha do trace no terminal começa
    no gateway) e os cenários do instrutor pelo gateway, todos como esperados. O /admin fica na porta de
    pagamentos (o gateway não o serve): o script o acha em ADMIN_PAGAMENTOS, a porta deste laboratório."""
    blocos = [p for p in blocos_da_secao("Um gateway na frente") if p.tipo in ("shell", "fora")]
    subida, docker, compra, carga = blocos[:4]
    assert roteiro.ambiente_do_make_local(subida) == {"GATEWAY": "true"}, subida
    assert docker.tipo == "fora" and carga.tipo == "fora" and carga.texto.startswith("make carga "), blocos
    with ModoLocal(tmp_path / "telemetria", GATEWAY="true", WEB_CONCURRENCY="1") as lab:
        aluno = roteiro.Aluno(RAIZ, lab, RAIZ, roteiro.pasta_do_make(tmp_path),
                              extras={"ADMIN_PAGAMENTOS": lab.url("pagamentos")})
        (curl, comentario), (cenarios, _) = comandos(compra)
        feita = aluno.rodar(curl)
        assert feita.returncode == 0 and "HTTP/1.1 201" in feita.stdout, explicar(feita)
        assert all(trecho in feita.stdout for trecho in re.findall(r'"[^"]+":"[^"]*"', comentario)), feita.stdout
        linha = lab.esperar_linha("gateway→ordens→livros→pagamentos", 15)
        assert linha and "POST /ordens 201" in linha, lab.saida()[-3000:]
        feitos = aluno.rodar(cenarios)
    assert feitos.returncode == 0 and "DIFERENTE" not in feitos.stdout, explicar(feitos)
    assert feitos.stdout.count("ok  ") == 10, feitos.stdout
