#!/usr/bin/env sh
# `make test` chama isto antes da suíte: os testes da compra por mensagens (tests/test_mensagens.py)
# sobem um RabbitMQ de verdade. Numa máquina Debian/Ubuntu limpa, como root (a CI, .ci/run), instala o
# rabbitmq-server do apt; fora disso só diz como instalar — esses testes então são pulados com a mesma linha.
set -eu
for caminho in /usr/lib/rabbitmq/bin/rabbitmq-server /opt/homebrew/sbin/rabbitmq-server /usr/local/sbin/rabbitmq-server; do
    [ -x "$caminho" ] && exit 0
done
command -v rabbitmq-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "instalando o rabbitmq-server (apt) para os testes da compra por mensagens..."
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
    exit 0
fi
echo "aviso: sem o rabbitmq-server, os testes da compra por mensagens serão pulados" \
     "(sudo apt-get install rabbitmq-server, ou brew install rabbitmq)" >&2
