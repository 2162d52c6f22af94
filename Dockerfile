# Imagem de um serviço da livraria: o mesmo arquivo para livros, ordens e pagamentos, escolhido pelo
# argumento de build SERVICO (docker-compose.yml: build.args). Contexto de build: a raiz do projeto.
# Tag mais nova da 3.12 em docker-library/official-images (library/python, commit 37079fb3).
FROM python:3.12.14-slim-bookworm

ARG SERVICO
# A porta vem da topologia (bookstore/topologia.py) pelo nome do serviço; PORT só se quiser outra.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    SERVICO=${SERVICO}

WORKDIR /app
RUN useradd --system --uid 10001 --no-create-home bookstore

# Dependências numa camada própria: só é refeita quando requirements.txt muda.
COPY requirements.txt .
RUN pip install -r requirements.txt

RUN test -n "$SERVICO" || { echo "faltou --build-arg SERVICO=livros|ordens|pagamentos" >&2; exit 1; }
COPY bookstore/ bookstore/
COPY ${SERVICO}/ ${SERVICO}/

USER bookstore
# Sem EXPOSE: a porta depende do serviço e é publicada pelo compose (que a lista ao lado de cada um).
# A imagem slim não tem curl nem wget: o próprio Python consulta /ready.
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=5 \
    CMD ["python", "-m", "bookstore.pronto"]
# O mesmo comando do modo local (modo_local/servicos.py); o compose o repete por serviço.
# `exec`: o gunicorn vira o PID 1 e recebe o SIGTERM do `docker compose stop`.
CMD ["sh", "-c", "exec gunicorn --config \"$SERVICO/gunicorn.conf.py\""]
