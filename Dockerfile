# toolcord: runs the bot. Secrets come from the environment (docker run --env-file .env ...).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY tools ./tools
COPY cogs ./cogs
COPY config ./config
RUN pip install . && useradd --create-home --uid 10001 toolcord && mkdir -p /app/data \
    && chown toolcord /app/data

USER toolcord
VOLUME ["/app/data"]
ENTRYPOINT ["toolcord"]
CMD ["run"]
