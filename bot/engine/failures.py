"""Turn provider failures into a kind for code and a sentence for the user."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import openai

log = logging.getLogger("toolcord.engine")

USER_MESSAGES = {
    "rate_limited": "The AI service is busy right now (rate limited). "
    "Please try again in a minute.",
    "out_of_credit": "The AI service is unavailable: the bot's account is out of credit. "
    "The bot owner has been told.",
    "unavailable": "The AI service is not responding right now. Please try again shortly.",
    "timeout": "The AI service took too long to answer. Please try again.",
    "content_filtered": "I can't help with that request: the AI service's content filter "
    "blocked it.",
    "context_too_long": "This conversation has grown too long for the model. "
    "Use /reset to start a fresh one.",
    "auth": "The bot is not configured correctly for the AI service. The bot owner has been told.",
    "incomplete": "The answer was cut off by the AI service. Please try again.",
    "invalid_request": "The AI service refused the bot's request, so the bot's settings need a "
    "change. The bot owner has been told.",
    "corrupt_stream": "Something went wrong while answering. Please try again.",
    "error": "Something went wrong while answering. Please try again.",
}

# Notices on a final answer that a limit shaped, by message key (English; the Discord side
# translates them from the bot's catalogues).
NOTICES = {
    "notice.cut_short": "(The answer was cut short: it reached the length limit.)",
    "notice.steps": "(I stopped after {rounds} steps; ask again to continue.)",
    "notice.out_of_time": "(I ran out of time for this answer; this is what I have.)",
}


OWNER_ACTIONS = {
    "out_of_credit": "the model provider says the account is out of credit: add credit or raise "
    "the spending limit in the provider's billing settings",
    "auth": "the model provider refused the API key or model: check OPENAI_API_KEY, "
    "OPENAI_BASE_URL and openai.chat_model",
    "invalid_request": "the model provider refused the request as invalid; its message (below) "
    "says what to change in the settings (openai.chat_model, openai.api_dialect, "
    "openai.reasoning_effort, ...)",
}
# Codes of a failed response (``response.failed`` / an ``error`` event on the Responses API).
STREAM_FAILURE_KINDS = {
    "rate_limit_exceeded": "rate_limited",
    "insufficient_quota": "out_of_credit",
    "context_length_exceeded": "context_too_long",
    "invalid_prompt": "content_filtered",
}


@dataclass(frozen=True)
class Failure:
    """A classified failure: ``retryable`` says whether one more attempt may help."""

    kind: str
    detail: str
    retryable: bool = False

    @property
    def user_message(self) -> str:
        return USER_MESSAGES.get(self.kind, USER_MESSAGES["error"])

    @property
    def message_key(self) -> str:
        """``user_message``'s key in the bot's catalogues (the Discord side translates it)."""
        return f"failure.{self.kind if self.kind in USER_MESSAGES else 'error'}"

    @property
    def owner_action(self) -> str | None:
        """What the bot owner must do, for failures only the owner can fix."""
        return OWNER_ACTIONS.get(self.kind)


class IncompleteStream(Exception):
    """The stream ended without a finish_reason: a failure, never a complete answer."""


class CorruptStream(Exception):
    """A streamed chunk could not be read (not JSON, or not shaped like a chunk).

    ``after_content`` says whether the response had already delivered text, reasoning or a tool
    call: before that, the stream can be retried as if the connection had dropped.
    """

    def __init__(self, detail: str, *, after_content: bool) -> None:
        super().__init__(detail)
        self.after_content = after_content


class ResponseFailed(Exception):
    """The server ended a streamed response with a failure (Responses API: ``response.failed`` or
    an ``error`` event); ``code`` is the server's error code."""

    def __init__(self, code: str, message: str, *, after_content: bool) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.after_content = after_content


def classify(exc: BaseException) -> Failure:
    """Map an exception from the openai client (or the stream) to a Failure."""
    if isinstance(exc, ResponseFailed):
        # A server error before any output is the streamed twin of an HTTP 500 (which the SDK
        # retries): one more attempt may help.
        kind = STREAM_FAILURE_KINDS.get(exc.code, "unavailable")
        retryable = exc.code == "server_error" and not exc.after_content
        return Failure(kind, f"response failed: {exc}", retryable=retryable)
    if isinstance(exc, IncompleteStream):
        return Failure("incomplete", str(exc), retryable=True)
    if isinstance(exc, CorruptStream):
        return Failure("corrupt_stream", str(exc), retryable=not exc.after_content)
    if isinstance(exc, openai.APITimeoutError):
        return Failure("timeout", "request timed out", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        return Failure("unavailable", f"connection failed: {type(exc.__cause__).__name__}")
    if isinstance(exc, openai.APIStatusError):
        return _classify_status(exc)
    if isinstance(exc, openai.APIError):
        return Failure("incomplete", f"stream error: {exc.message}", retryable=True)
    return Failure("error", f"{type(exc).__name__}")


def _classify_status(exc: openai.APIStatusError) -> Failure:
    code = _error_code(exc)
    detail = f"HTTP {exc.status_code} {code or ''} request_id={exc.request_id}".strip()
    if isinstance(exc, openai.RateLimitError):
        if code in {"insufficient_quota", "billing_hard_limit_reached"}:
            return Failure("out_of_credit", detail)
        return Failure("rate_limited", detail)
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return Failure("auth", detail)
    if exc.status_code >= 500:
        return Failure("unavailable", detail)
    if code == "context_length_exceeded":
        return Failure("context_too_long", detail, retryable=True)
    if code in {"content_filter", "content_policy_violation"}:
        return Failure("content_filtered", detail)
    if isinstance(exc, openai.NotFoundError):
        return Failure("auth", detail)
    if isinstance(exc, openai.BadRequestError):
        return Failure("invalid_request", f"{detail}{_param(exc)}: {_message(exc)}")
    return Failure("error", detail)


def _message(exc: openai.APIStatusError) -> str:
    """The server's own error message, verbatim (it says what to change)."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return exc.message


def _param(exc: openai.APIStatusError) -> str:
    body = exc.body
    inner = body.get("error", body) if isinstance(body, dict) else None
    param = inner.get("param") if isinstance(inner, dict) else None
    return f" param={param}" if param else ""


def _error_code(exc: openai.APIStatusError) -> str | None:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            code = inner.get("code") or inner.get("type")
            return str(code) if code else None
    return None
