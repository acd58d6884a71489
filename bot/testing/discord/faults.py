"""Fault injection: canned error (or slow) answers for the next N matching requests."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from bot.testing.discord.recorder import RecordedRequest

_DEFAULT_BODIES: dict[int, dict[str, Any]] = {
    400: {"message": "400: Bad Request", "code": 0},
    401: {"message": "401: Unauthorized", "code": 0},
    403: {"message": "Missing Permissions", "code": 50013},
    404: {"message": "404: Not Found", "code": 0},
    500: {"message": "500: Internal Server Error", "code": 0},
    502: {"message": "502: Bad Gateway", "code": 0},
    503: {"message": "503: Service Unavailable", "code": 0},
    504: {"message": "504: Gateway Timeout", "code": 0},
}


@dataclasses.dataclass(eq=False)
class FaultRule:
    """Answers the next ``times`` requests matching ``method`` and ``path_regex`` (anchored).

    ``status=None`` with a ``delay`` makes a slow but otherwise normal answer.
    """

    method: str | None
    path_regex: re.Pattern[str]
    status: int | None = 429
    times: int = 1
    via: bool = True
    retry_after: float = 0.05
    global_: bool = False
    body: Any = None
    delay: float | None = None
    hits: list[RecordedRequest] = dataclasses.field(default_factory=list)

    @property
    def exhausted(self) -> bool:
        return len(self.hits) >= self.times

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        return self.path_regex.fullmatch(path) is not None

    def response_body(self) -> Any:
        """The JSON (dict) or text (str) body to answer with."""
        if self.body is not None:
            return self.body
        if self.status == 429:
            return {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.global_,
            }
        return _DEFAULT_BODIES.get(self.status or 0, {"message": f"{self.status}", "code": 0})

    def response_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.via:
            headers["Via"] = "1.1 google"
        if self.status == 429:
            headers["Retry-After"] = str(max(1, round(self.retry_after)))
            if self.global_:
                headers["X-RateLimit-Global"] = "true"
            headers["X-RateLimit-Scope"] = "global" if self.global_ else "user"
        return headers


class FaultInjector:
    """The active fault rules; ``emu.faults.add(...)`` makes one."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(
        self,
        method: str | None,
        path_regex: str,
        *,
        status: int | None = 429,
        times: int = 1,
        via: bool = True,
        retry_after: float = 0.05,
        global_: bool = False,
        body: Any = None,
        delay: float | None = None,
    ) -> FaultRule:
        """Injects ``status`` (429 with/without ``Via``, 5xx, 403, 404...) or a ``delay``.

        ``path_regex`` is matched against the whole path without ``/api/v10``, e.g.
        ``r"/channels/\\d+/messages"``.
        """
        if status is None and delay is None:
            raise ValueError("a fault needs a status, a delay, or both")
        rule = FaultRule(
            method=method,
            path_regex=re.compile(path_regex),
            status=status,
            times=times,
            via=via,
            retry_after=retry_after,
            global_=global_,
            body=body,
            delay=delay,
        )
        self.rules.append(rule)
        return rule

    def take(self, record: RecordedRequest) -> FaultRule | None:
        """The first live rule matching the request, which is charged one use."""
        for rule in self.rules:
            if not rule.exhausted and rule.matches(record.method, record.path):
                rule.hits.append(record)
                return rule
        return None

    def clear(self) -> None:
        self.rules.clear()

    @property
    def pending(self) -> list[FaultRule]:
        return [rule for rule in self.rules if not rule.exhausted]
