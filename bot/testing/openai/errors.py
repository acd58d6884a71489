"""OpenAI-shaped error bodies and the exception routes raise to answer with one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def error_body(
    message: str,
    *,
    error_type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """Return ``{"error": {"message", "type", "param", "code"}}`` as OpenAI sends it."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


class ApiError(Exception):
    """Raised inside a route to answer with an OpenAI error response.

    The emulator's middleware turns it into a JSON response with ``status``, the error body and
    ``headers`` (plus ``x-request-id``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code or error_type}: {message}")
        self.status = status
        self.body = error_body(message, error_type=error_type, param=param, code=code)
        self.headers = dict(headers or {})


class ConnectionDropped(Exception):
    """Raised inside a route after it aborted the connection on purpose (a scripted fault)."""
