"""Identifiers shaped like OpenAI's (``chatcmpl-…``, ``call_…``, ``req_…``)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Return ``prefix`` followed by ``length`` random letters and digits."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def request_id() -> str:
    """Return a value for the ``x-request-id`` header."""
    return "req_" + secrets.token_hex(16)
