# Firebreak in HTTP mode: `docker build -t firebreak .`; compose.yaml runs two replicas on PostgreSQL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Only what the package build reads: pyproject, the README (the package's long description),
# the code, and runbooks/ (shipped as package data under bot/shipped_runbooks).
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY runbooks ./runbooks
RUN pip install --no-cache-dir . && rm -rf /src

RUN useradd --system --create-home --home-dir /app --uid 10001 firebreak
WORKDIR /app
USER firebreak

ENV BOT_HTTP_PORT=3000 \
    BOT_LOG_FORMAT=json
EXPOSE 3000

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

CMD ["firebreak", "run"]
