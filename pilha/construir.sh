#!/usr/bin/env bash
# Constrói do código-fonte, com Go, a pilha real do laboratório:
#   otelcol (OpenTelemetry Collector só com os componentes que o laboratório usa),
#   jaeger (Jaeger v2), prometheus + promtool (e a interface web do Prometheus, com npm),
#   victoria-logs (os logs, com a interface vmui), victoria-metrics (os painéis, na vmui dele) e
#   otel-desktop-viewer (a cascata dos traces),
# em <raiz do repositório>/.ferramentas/bin/. As versões vêm de pilha/versoes.env.
#
# Uso: pilha/construir.sh [otelcol] [jaeger] [prometheus] [victorialogs] [paineis] [visualizador]
#   (sem argumentos: todos)
#
# - A interface web do Prometheus vem do próprio módulo Go dele (web/ui): o pnpm (pelo npx, do registro
#   npm) instala exatamente o pnpm-lock.yaml de lá e o vite a constrói em .ferramentas/interface-do-prometheus/.
#   Sem o Node/npm, uma linha diz o que falta e o resto segue (a API do Prometheus funciona sem ela).
# - O otel-desktop-viewer guarda os traces num DuckDB: é o único construído com C (CGO, precisa do gcc);
#   as bibliotecas do DuckDB vêm de um módulo Go por plataforma (Linux e macOS, amd64 e arm64).
#
# - Usa os caches normais do Go (GOMODCACHE, GOCACHE): a primeira vez baixa ~1,5 GiB de
#   módulos e compila por vários minutos; depois é rápido. Os binários e a interface prontos ficam
#   também em ~/.cache/bookstore-lab (ou $XDG_CACHE_HOME/bookstore-lab), pela chave do que entrou no build: um clone
#   novo os copia em vez de ligar tudo de novo.
# - Um componente cujo binário é mais novo que o go.mod, o go.sum, os *.go da sua pasta e
#   o versoes.env está em dia: não é reconstruído.
# - -mod=readonly: nunca mexe em go.mod/go.sum (mesmo com GOFLAGS=-mod=mod no ambiente);
#   se eles não bastarem para o build, o go para com erro em vez de resolver outra coisa.
# - GO=/caminho/do/go escolhe outro go.
set -euo pipefail

PILHA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RAIZ="$(dirname "$PILHA")"
DESTINO="$RAIZ/.ferramentas/bin"

# --- o go --------------------------------------------------------------------------------
if [ -n "${GO:-}" ]; then
    :
elif command -v go >/dev/null 2>&1; then
    GO=go
elif [ -x /usr/local/go/bin/go ]; then
    GO=/usr/local/go/bin/go
else
    GO=
fi
if [ -z "$GO" ] || ! "$GO" version >/dev/null 2>&1; then
    echo "construir.sh: o Go não foi encontrado (${GO:-go} fora do PATH e sem /usr/local/go/bin/go)." >&2
    echo "construir.sh: instale o Go 1.25 ou mais novo, ou aponte GO=/caminho/do/go." >&2
    exit 1
fi

# --- as versões (KEY=valor; comentários e linhas vazias ignorados) -------------------------
while IFS='=' read -r chave valor; do
    case "$chave" in '' | \#*) continue ;; esac
    printf -v "$chave" '%s' "$valor"
done <"$PILHA/versoes.env"
for chave in OTELCOL_VERSAO OTELCOL_VERSAO_ESTAVEL JAEGER_VERSAO JAEGER_MODULO JAEGER_COMMIT \
    PROMETHEUS_VERSAO PROMETHEUS_MODULO PNPM_VERSAO VICTORIALOGS_VERSAO VISUALIZADOR_VERSAO; do
    if [ -z "${!chave:-}" ]; then
        echo "construir.sh: falta $chave em pilha/versoes.env" >&2
        exit 1
    fi
done

# Binários estáticos (sem C): rodam em qualquer Linux da mesma arquitetura. A exceção é o visualizador
# (construir_visualizador), que liga o DuckDB.
export CGO_ENABLED=0

# --- conferências: o go.mod pede o que o versoes.env diz? ----------------------------------
falha() {
    echo "construir.sh: $*" >&2
    exit 1
}

# Versão de um módulo no bloco require de um go.mod ("" se não estiver lá).
versao_no_gomod() { # $1 go.mod, $2 módulo
    awk -v m="$2" '$1 == m { print $2; exit }' "$1"
}

conferir_otelcol() {
    local gomod="$PILHA/otelcol/go.mod" fora
    # Todo módulo do Collector (core e contrib) na MESMA release: misturar releases compila
    # às vezes, mas quebra em tempo de execução ou na próxima atualização. A exceção são os módulos
    # do contrib que já têm numeração estável própria (pkg/ottl está em v1.x): a release deles vem
    # junto com a do contrib pelo go.sum, e o número não acompanha o 0.N.
    fora="$(awk -v a="v$OTELCOL_VERSAO" -v b="v$OTELCOL_VERSAO_ESTAVEL" '
        $1 ~ /^(go\.opentelemetry\.io\/collector|github\.com\/open-telemetry\/opentelemetry-collector-contrib)(\/|$)/ &&
        !($1 ~ /opentelemetry-collector-contrib\/pkg\/ottl$/ && $2 ~ /^v1\./) &&
        $2 != a && $2 != b { print "  " $1 " " $2 }' "$gomod")"
    [ -z "$fora" ] || falha "pilha/otelcol/go.mod tem módulos fora de $OTELCOL_VERSAO/$OTELCOL_VERSAO_ESTAVEL (pilha/versoes.env):
$fora"
    [ "$(versao_no_gomod "$gomod" go.opentelemetry.io/collector/otelcol)" = "v$OTELCOL_VERSAO" ] ||
        falha "pilha/otelcol/go.mod não pede go.opentelemetry.io/collector/otelcol v$OTELCOL_VERSAO"
}

# O go.mod da pasta pede o módulo principal do componente na versão do versoes.env?
conferir_modulo() { # $1 pasta, $2 módulo, $3 versão, $4 nome da versão em versoes.env
    [ "$(versao_no_gomod "$PILHA/$1/go.mod" "$2")" = "$3" ] ||
        falha "pilha/$1/go.mod não pede $2 $3 ($4)"
}
conferir_jaeger() { conferir_modulo jaeger github.com/jaegertracing/jaeger "$JAEGER_MODULO" JAEGER_MODULO; }
conferir_prometheus() { conferir_modulo prometheus github.com/prometheus/prometheus "$PROMETHEUS_MODULO" PROMETHEUS_MODULO; }
conferir_victorialogs() {
    conferir_modulo victorialogs github.com/VictoriaMetrics/VictoriaLogs "v$VICTORIALOGS_VERSAO" VICTORIALOGS_VERSAO
}
conferir_paineis() {
    conferir_modulo victoriametrics github.com/VictoriaMetrics/VictoriaMetrics "v$VICTORIAMETRICS_VERSAO" VICTORIAMETRICS_VERSAO
}
conferir_visualizador() {
    conferir_modulo visualizador github.com/CtrlSpice/otel-desktop-viewer "v$VISUALIZADOR_VERSAO" VISUALIZADOR_VERSAO
}

# --- em dia? -------------------------------------------------------------------------------
# Em dia = cada binário existe e é mais novo que go.mod, go.sum, *.go da pasta e versoes.env.
em_dia() { # $1 pasta, $2... binários
    local pasta="$1" bin
    shift
    for bin in "$@"; do
        [ -x "$DESTINO/$bin" ] || return 1
        [ "$PILHA/versoes.env" -ot "$DESTINO/$bin" ] || return 1
        [ -z "$(find "$pasta" -maxdepth 1 \( -name go.mod -o -name go.sum -o -name '*.go' \) \
            -newer "$DESTINO/$bin" -print -quit)" ] || return 1
    done
}

# O que já foi construído, fora do clone: cada clone novo (o CI, a cópia do make curso, um aluno que
# clona de novo) copiaria o mesmo binário que o GOCACHE não guarda — o go guarda os pacotes compilados,
# não o executável ligado, e ligar os sete leva ~1 min em 2 núcleos; a interface do Prometheus, mais
# ~30 s de pnpm. A chave é tudo o que entra no build (o go, o módulo, as flags): entrada diferente, chave
# diferente; nada é reaproveitado por engano. Para apagar: rm -rf ~/.cache/bookstore-lab.
GUARDADOS="${XDG_CACHE_HOME:-$HOME/.cache}/bookstore-lab"

chave_do_build() { # $1 pasta do módulo, $2... o resto do que muda o binário (nome, flags, pacote, CGO)
    local pasta="$1"
    shift
    { "$GO" version; echo "$*" "CGO_ENABLED=${CGO_ENABLED:-}"; cat "$PILHA/versoes.env"
      find "$pasta" -maxdepth 1 \( -name go.mod -o -name go.sum -o -name '*.go' \) -print0 | sort -z | xargs -0 cat
    } | sha256sum | cut -c1-24
}

# go build para um arquivo temporário e depois mv: um build interrompido não deixa um
# binário pela metade que pareceria em dia. A saída do go (centenas de "go: downloading"
# numa máquina nova) vai para um log, mostrado só se o build falhar.
go_build() { # $1 pasta do módulo, $2 binário, $3 ldflags extras, $4 pacote
    local log="$DESTINO/.$2.log" guardado
    guardado="$GUARDADOS/bin/$2-$(chave_do_build "$1" "$2" "$3" "$4")"
    if [ -x "$guardado" ]; then
        COPIADO=" — copiado do já construído em $GUARDADOS"
        cp "$guardado" "$DESTINO/.$2.tmp"
        mv -f "$DESTINO/.$2.tmp" "$DESTINO/$2"
        return
    fi
    if ! (cd "$1" && "$GO" build -mod=readonly -trimpath -ldflags="-s -w $3" \
        -o "$DESTINO/.$2.tmp" "$4") >"$log" 2>&1; then
        echo "FALHOU"
        cat "$log" >&2
        falha "o build de $2 falhou (saída acima, também em $log)"
    fi
    mv -f "$DESTINO/.$2.tmp" "$DESTINO/$2"
    rm -f "$log"
    # Guardar é um extra: sem espaço ou sem permissão no cache, o build vale do mesmo jeito.
    { mkdir -p "$GUARDADOS/bin" && cp "$DESTINO/$2" "$guardado.tmp.$$" && mv -f "$guardado.tmp.$$" "$guardado"; } 2>/dev/null ||
        rm -f "$guardado.tmp.$$"
}

tamanho() { # MiB de cada binário
    local bin saida=""
    for bin in "$@"; do
        saida+="$bin $(($(stat -c %s "$DESTINO/$bin") / 1048576)) MiB, "
    done
    echo "${saida%, }"
}

# Uma linha por componente: "nome versão: ..." terminada quando o build acaba.
# $5 é o tempo medido numa máquina nova de 2 núcleos (módulos a baixar, GOCACHE vazio), para quem
# espera saber quanto falta.
componente() { # $1 nome, $2 versão, $3 pasta, $4 função que constrói, $5 tempo esperado, $6... binários
    local nome="$1" versao="$2" pasta="$3" funcao="$4" esperado="$5" inicio
    shift 5
    "conferir_$nome"
    if em_dia "$pasta" "$@"; then
        echo "$nome $versao: em dia, nada a fazer ($(tamanho "$@"))"
        return
    fi
    printf '%s %s: construindo (máquina nova: %s)... ' "$nome" "$versao" "$esperado"
    inicio=$SECONDS
    COPIADO=""
    "$funcao"
    echo "ok em $((SECONDS - inicio)) s ($(tamanho "$@")$COPIADO)"
}

construir_otelcol() {
    go_build "$PILHA/otelcol" otelcol "-X main.versao=$OTELCOL_VERSAO" .
}

construir_jaeger() {
    local v=github.com/jaegertracing/jaeger/internal/version
    go_build "$PILHA/jaeger" jaeger \
        "-X $v.latestVersion=v$JAEGER_VERSAO -X $v.commitSHA=$JAEGER_COMMIT" \
        github.com/jaegertracing/jaeger/cmd/jaeger
}

construir_prometheus() {
    # Sem -tags builtinassets: o binário serve a interface de static/mantine-ui relativo à pasta em
    # que roda (web/ui/ui.go do Prometheus); o make local o roda em .ferramentas/interface-do-prometheus/.
    local v=github.com/prometheus/common/version
    local ld="-X $v.Version=$PROMETHEUS_VERSAO -X $v.Revision=$PROMETHEUS_MODULO -X $v.Branch=modulo-go"
    go_build "$PILHA/prometheus" prometheus "$ld" github.com/prometheus/prometheus/cmd/prometheus
    go_build "$PILHA/prometheus" promtool "$ld" github.com/prometheus/prometheus/cmd/promtool
}

construir_victorialogs() {
    go_build "$PILHA/victorialogs" victoria-logs \
        "-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-logs-v$VICTORIALOGS_VERSAO" \
        github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs
}

construir_paineis() {
    go_build "$PILHA/victoriametrics" victoria-metrics \
        "-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-metrics-v$VICTORIAMETRICS_VERSAO" \
        github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics
}

construir_visualizador() {
    command -v "${CC:-gcc}" >/dev/null 2>&1 ||
        falha "o otel-desktop-viewer precisa de um compilador C para o DuckDB (CGO): instale o gcc (apt-get install gcc; no macOS, xcode-select --install)"
    CGO_ENABLED=1 go_build "$PILHA/visualizador" otel-desktop-viewer "-X main.version=$VISUALIZADOR_VERSAO" \
        github.com/CtrlSpice/otel-desktop-viewer
}

# --- a interface web do Prometheus (npm) ----------------------------------------------------
INTERFACE="$RAIZ/.ferramentas/interface-do-prometheus"
MARCA_DA_INTERFACE="$INTERFACE/.versao"

interface_do_prometheus() {
    local marca="$PROMETHEUS_MODULO pnpm $PNPM_VERSAO" inicio obra log dir guardada
    if [ -f "$INTERFACE/static/mantine-ui/index.html" ] && [ "$(cat "$MARCA_DA_INTERFACE" 2>/dev/null)" = "$marca" ]; then
        echo "interface do Prometheus $PROMETHEUS_VERSAO: em dia, nada a fazer ($(du -sm "$INTERFACE/static" | cut -f1) MiB)"
        return
    fi
    if ! command -v npx >/dev/null 2>&1; then
        [ "${CI:-}" != true ] || falha "CI=true: sem o npx (Node/npm), a interface do Prometheus não é construída"
        echo "interface do Prometheus: sem o Node/npm (npx) nesta máquina, não construída — a API do Prometheus funciona; instale o Node.js 20+ e rode make ferramentas"
        return
    fi
    guardada="$GUARDADOS/interface-do-prometheus-$(echo "$marca" | sha256sum | cut -c1-24)"
    if [ -f "$guardada/static/mantine-ui/index.html" ]; then
        rm -rf "$INTERFACE"
        mkdir -p "$INTERFACE"
        cp -r "$guardada/static" "$INTERFACE/static"
        echo "$marca" >"$MARCA_DA_INTERFACE"
        echo "interface do Prometheus $PROMETHEUS_VERSAO: copiada do que já foi construído ($guardada)"
        return
    fi
    printf 'interface do Prometheus %s: construindo com npm/pnpm (máquina nova: ~30 s)... ' "$PROMETHEUS_VERSAO"
    inicio=$SECONDS
    obra="$RAIZ/.ferramentas/.interface-do-prometheus-obra"
    log="$RAIZ/.ferramentas/.interface-do-prometheus.log"
    dir="$(cd "$PILHA/prometheus" && "$GO" mod download -json "github.com/prometheus/prometheus@$PROMETHEUS_MODULO" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [ -d "$dir/web/ui" ] || falha "o módulo do Prometheus $PROMETHEUS_MODULO não tem web/ui (go mod download)"
    rm -rf "$obra"
    cp -r "$dir/web/ui" "$obra"
    chmod -R u+w "$obra" # o cache de módulos do Go é só leitura
    # --frozen-lockfile: exatamente o que o Prometheus travou (nada é resolvido de novo); CI vazio para
    # o build:mantine-ui, como no Makefile do Prometheus.
    if ! (cd "$obra" && npx --yes "pnpm@$PNPM_VERSAO" install --frozen-lockfile &&
        npx --yes "pnpm@$PNPM_VERSAO" run build:module &&
        CI="" npx --yes "pnpm@$PNPM_VERSAO" run build:mantine-ui) >"$log" 2>&1; then
        echo "FALHOU"
        tail -30 "$log" >&2
        falha "a interface do Prometheus não foi construída (saída acima, também em $log)"
    fi
    rm -rf "$INTERFACE"
    mkdir -p "$INTERFACE/static"
    mv "$obra/static/mantine-ui" "$INTERFACE/static/mantine-ui"
    echo "$marca" >"$MARCA_DA_INTERFACE"
    { mkdir -p "$GUARDADOS" && rm -rf "$guardada.tmp.$$" && mkdir "$guardada.tmp.$$" &&
      cp -r "$INTERFACE/static" "$guardada.tmp.$$/static" && rm -rf "$guardada" && mv "$guardada.tmp.$$" "$guardada"; } 2>/dev/null ||
        rm -rf "$guardada.tmp.$$"
    rm -rf "$obra" "$log" # os node_modules (~460 MiB) não servem depois do build; o pnpm guarda o cache dele
    echo "ok em $((SECONDS - inicio)) s ($(du -sm "$INTERFACE/static" | cut -f1) MiB)"
}

# --- principal -----------------------------------------------------------------------------
if [ "$#" -eq 0 ]; then
    set -- otelcol jaeger prometheus victorialogs paineis visualizador
fi
mkdir -p "$DESTINO"
# A pasta se ignora sozinha no git (binários não entram em commit).
[ -f "$RAIZ/.ferramentas/.gitignore" ] || echo '*' >"$RAIZ/.ferramentas/.gitignore"

inicio_total=$SECONDS
for nome in "$@"; do
    case "$nome" in
    otelcol) componente otelcol "$OTELCOL_VERSAO" "$PILHA/otelcol" construir_otelcol "~2,5 min" otelcol ;;
    jaeger) componente jaeger "$JAEGER_VERSAO" "$PILHA/jaeger" construir_jaeger "~4 min" jaeger ;;
    prometheus)
        componente prometheus "$PROMETHEUS_VERSAO" "$PILHA/prometheus" construir_prometheus "~4 min" prometheus promtool
        interface_do_prometheus
        ;;
    victorialogs) componente victorialogs "$VICTORIALOGS_VERSAO" "$PILHA/victorialogs" construir_victorialogs "~15 s" victoria-logs ;;
    paineis) componente paineis "$VICTORIAMETRICS_VERSAO" "$PILHA/victoriametrics" construir_paineis "~30 s" victoria-metrics ;;
    visualizador) componente visualizador "$VISUALIZADOR_VERSAO" "$PILHA/visualizador" construir_visualizador "~1 min" otel-desktop-viewer ;;
    *) falha "componente desconhecido: $nome (use otelcol, jaeger, prometheus, victorialogs, paineis ou visualizador)" ;;
    esac
done
echo "pilha: pronta em $DESTINO ($((SECONDS - inicio_total)) s)"
