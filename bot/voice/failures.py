"""Failures of the audio endpoints, said plainly, and a breaker that stops calls after a 401.

A refused API key will not fix itself: after a 401 the endpoint is not called again for a while
(every request in between gets the same message at once), so a wrong key costs one call, not a
retry loop.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import openai

if TYPE_CHECKING:
    from bot.policy.gate import Refusal

log = logging.getLogger("toolcord.voice")

AUTH_PAUSE_S = 300.0


class VoiceFailure(Exception):
    """An audio endpoint failed; ``user_message`` is safe to show, ``kind`` is for logs/tests."""

    def __init__(self, kind: str, user_message: str, *, refusal: Refusal | None = None) -> None:
        super().__init__(user_message)
        self.kind = kind
        self.user_message = user_message
        self.refusal = refusal  # a quota's refusal (its key shows it in the user's language)


def auth_failure(service: str) -> VoiceFailure:
    """The failure shown while the API key is refused."""
    return VoiceFailure(
        "auth",
        f"The {service} service refused the bot's API key; the bot's owner must check "
        "OPENAI_API_KEY. Try again later.",
    )


def describe(exc: openai.OpenAIError, service: str) -> VoiceFailure:
    """The user-facing failure for an error of ``service`` ("transcription", "speech")."""
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return auth_failure(service)
    if isinstance(exc, openai.RateLimitError):
        return VoiceFailure(
            "rate_limited", f"The {service} service is busy right now; try again in a minute."
        )
    if isinstance(exc, openai.APITimeoutError):
        return VoiceFailure("timeout", f"The {service} service took too long; try again.")
    if isinstance(exc, openai.APIConnectionError):
        return VoiceFailure(
            "unreachable", f"I could not reach the {service} service; try again in a minute."
        )
    if isinstance(exc, openai.APIStatusError) and exc.status_code == 413:
        return VoiceFailure("too_large", f"The {service} service refused the file as too large.")
    if isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError):
        return VoiceFailure(
            "rejected",
            f"The {service} service could not use this audio (it may be corrupted or in a format "
            "it does not support).",
        )
    return VoiceFailure("failed", f"The {service} service failed; try again in a minute.")


class AuthBreaker:
    """Opens for ``pause_s`` after a refused API key; calls fail fast while it is open."""

    def __init__(self, service: str, pause_s: float = AUTH_PAUSE_S) -> None:
        self._service = service
        self._pause_s = pause_s
        self._open_until = 0.0

    def check(self) -> None:
        """Raise the auth failure at once while the breaker is open."""
        if time.monotonic() < self._open_until:
            raise auth_failure(self._service)

    def record(self, failure: VoiceFailure) -> None:
        """Open the breaker when ``failure`` was a refused key."""
        if failure.kind == "auth":
            self._open_until = time.monotonic() + self._pause_s
            log.error(
                "the %s endpoint refused the API key; not calling it for %.0f s: the bot's owner "
                "must set a valid OPENAI_API_KEY",
                self._service,
                self._pause_s,
            )
