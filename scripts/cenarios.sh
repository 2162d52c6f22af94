#!/usr/bin/env bash
# Cenários de compra do README, em ordem, para instrutores: diz o que cada um devolveu.
# Uso: ./scripts/cenarios.sh   (com o laboratório no ar: docker compose ou make local)
#      BASE_URL=http://localhost:8080 ./scripts/cenarios.sh   (tudo pelo gateway, GATEWAY=true)
set -u
BASE_URL=${BASE_URL:-}
LIVROS=${LIVROS:-${BASE_URL:-http://localhost:8081}}
ORDENS=${ORDENS:-${BASE_URL:-http://localhost:8082}}
PAGAMENTOS=${PAGAMENTOS:-${BASE_URL:-http://localhost:8083}}
# O /admin não passa pelo gateway (gateway/Caddyfile): a falha é ligada na porta do serviço,
# e vale para todas as réplicas (fica no banco).
if [ -n "$BASE_URL" ]; then ADMIN_PAGAMENTOS=${ADMIN_PAGAMENTOS:-http://localhost:8083}; else ADMIN_PAGAMENTOS=${ADMIN_PAGAMENTOS:-$PAGAMENTOS}; fi

cenario() {  # cenario "descrição" status_esperado método url [corpo]
  local descricao=$1 esperado=$2 metodo=$3 url=$4 corpo=${5:-}
  local resposta status
  resposta=$(curl -s -w '\n%{http_code}' -X "$metodo" "$url" -H 'Content-Type: application/json' ${corpo:+-d "$corpo"})
  status=$(tail -n1 <<<"$resposta")
  if [ "$status" = "$esperado" ]; then marca="ok  "; else marca="DIFERENTE"; fi
  printf '%-9s %-45s esperado %s, veio %s\n          %s\n' "$marca" "$descricao" "$esperado" "$status" "$(head -n1 <<<"$resposta" | cut -c1-160)"
}

cenario "catálogo"                           200 GET  "$LIVROS/livros?limite=3"
cenario "compra que dá certo"                201 POST "$ORDENS/ordens" '{"itens":[{"livro_id":1,"quantidade":1}],"cliente":"Ana"}'
cenario "sem estoque (O Último Exemplar x2)" 409 POST "$ORDENS/ordens" '{"itens":[{"livro_id":10,"quantidade":2}]}'
cenario "cartão recusado (final 0002)"       402 POST "$ORDENS/ordens" '{"itens":[{"livro_id":1,"quantidade":1}],"cartao":"4000000000000002"}'
cenario "livro que não existe"               422 POST "$ORDENS/ordens" '{"itens":[{"livro_id":9999,"quantidade":1}]}'
cenario "corpo que não é JSON"               400 POST "$ORDENS/ordens" 'isto não é json'
cenario "liga falha em pagamentos"           200 PUT  "$ADMIN_PAGAMENTOS/admin/falhas" '{"latencia_ms":0,"taxa_erro":1}'
cenario "compra com pagamentos falhando"     503 POST "$ORDENS/ordens" '{"itens":[{"livro_id":2,"quantidade":1}]}'
cenario "desliga a falha"                    200 PUT  "$ADMIN_PAGAMENTOS/admin/falhas" '{"latencia_ms":0,"taxa_erro":0}'
cenario "compra volta a funcionar"           201 POST "$ORDENS/ordens" '{"itens":[{"livro_id":2,"quantidade":1}]}'
