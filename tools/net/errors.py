"""Errors of the safe fetcher; their messages are safe to show to the model as they are."""

from __future__ import annotations


class FetchError(Exception):
    """Root of the fetcher's errors.

    Args:
        reason: A model-safe sentence: no resolved internal addresses, secrets or tracebacks.
        detail: Extra facts for the logs only (e.g. the resolved address); never shown.
    """

    def __init__(self, reason: str, *, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class FetchDenied(FetchError):
    """The fetch policy refused the URL, a redirect target or a resolved address.

    Nobody needs to act unless the address should be reachable: then the bot owner must allow
    its network or port in the fetch policy.
    """


class FetchFailed(FetchError):
    """The network or the remote server failed (unreachable, HTTP error, too slow, bad body).

    Args:
        reason: A model-safe sentence.
        status: The HTTP status when the server answered with an error, else None.
        detail: Extra facts for the logs only.
    """

    def __init__(self, reason: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(reason, detail=detail)
        self.status = status
