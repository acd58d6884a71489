# toolcord: runs the bot. Secrets come from the environment (docker run --env-file .env ...).
#
# Your own tool modules and config go in /app/owner (mount a folder there, or COPY it in an image
# FROM this one): it is on PYTHONPATH, so tools.modules can name its modules, and
# TOOLCORD_CONFIG=/app/owner/bot.toml makes the bot read your config. See README.md, "Docker".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app/owner \
    TOOLCORD_OBSERVABILITY__HEALTH_PORT=9000
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY tools ./tools
COPY cogs ./cogs
COPY examples ./examples
COPY config ./config
RUN pip install . && useradd --create-home --uid 10001 toolcord \
    && mkdir -p /app/data /app/owner && chown toolcord /app/data

USER toolcord
VOLUME ["/app/data"]
# /healthz answers while the process is alive (observability.health_port, 9000 above).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9000/healthz', timeout=3)"]
ENTRYPOINT ["toolcord"]
CMD ["run"]
