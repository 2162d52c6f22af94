#!/usr/bin/env sh
# `make test` chama isto antes da suíte: os testes do navegador (tests/test_navegador.py) abrem cada página
# que o aluno abre num Chromium de verdade, dirigido pelo Playwright (do PyPI; o navegador que ele
# baixaria sozinho não vem de um registro, então ele usa o Chromium do Debian). Numa máquina Debian/Ubuntu
# limpa, como root (a CI, .ci/run), instala o chromium do apt; fora disso só diz como instalar — esses
# testes então são pulados com a mesma linha (com CI=true, falham).
set -eu
for caminho in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -n "$caminho" ] && [ -x "$caminho" ] && exit 0
done
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "instalando o chromium (apt) para os testes do navegador..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
    exit 0
fi
echo "aviso: sem o chromium, os testes do navegador serão pulados" \
     "(sudo apt-get install chromium; ou aponte CHROMIUM=/caminho/do/chromium)" >&2
