"""Logging that never writes a secret: known secret values and token-shaped strings are masked.

discord.py logs webhook URLs (which carry interaction tokens) and request details at DEBUG; the
redacting filter sits on the handler, so every record from every library passes through it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "[redacted]"
# HTTP clients that log every request at INFO: a line per model call is noise (and costs CPU).
PER_REQUEST_LOGGERS = ("httpx2", "httpx")
TOKEN_PATTERNS = (
    # interaction and webhook tokens in URLs: /webhooks/<id>/<token>, /interactions/<id>/<token>
    re.compile(r"(/(?:webhooks|interactions)/\d+/)[A-Za-z0-9_.\-]{20,}"),
    # tokens inside logged payloads: 'token': '...' or "token": "..." (interactions, IDENTIFY)
    re.compile(r"""(['"](?:token|access_token|api_key)['"]\s*:\s*['"])[^'"]+"""),
    # Authorization headers
    re.compile(r"((?:Bot|Bearer)\s+)[A-Za-z0-9_.\-]{16,}"),
    # OpenAI-style keys
    re.compile(r"()\bsk-[A-Za-z0-9_\-]{16,}"),
    # Discord bot tokens: base64 id . timestamp . hmac
    re.compile(r"()\b[A-Za-z0-9_\-]{23,28}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,}"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask the given secret values and anything shaped like a token in ``text``."""
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, MASK)
    for pattern in TOKEN_PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and exception text) with secrets masked."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(secret for secret in secrets if secret)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> logging.Handler:
    """Send logs to stderr through the redacting filter; returns the handler it installed."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in PER_REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
