"""The request log: every HTTP request the emulator answered, with race-free waiting."""

from __future__ import annotations

import collections
import dataclasses
import re
from collections.abc import Callable
from typing import Any

from bot.testing.discord.signal import ChangeSignal

REQUESTS_TOPIC = "requests"


@dataclasses.dataclass(frozen=True)
class MultipartPart:
    """One part of a multipart body."""

    name: str | None
    filename: str | None
    content_type: str | None
    data: bytes


@dataclasses.dataclass(eq=False)
class RecordedRequest:
    """One request: ``path`` has no ``/api/v10`` prefix (CDN paths keep ``/cdn``)."""

    index: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    received_at: float
    json: Any = None
    parts: list[MultipartPart] = dataclasses.field(default_factory=list)
    status: int | None = None
    response: Any = None
    completed_at: float | None = None
    order: int = -1

    @property
    def files(self) -> list[MultipartPart]:
        """The file parts (``files[n]``) of a multipart body."""
        return [part for part in self.parts if part.filename is not None]


@dataclasses.dataclass(frozen=True)
class Mark:
    """A point in the emulator's history; pass it as ``after=`` to wait for later things only."""

    request_index: int
    message_seq: int
    dispatch_index: int


def _compile(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    return pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)


class Recorder:
    """Keeps the last ``limit`` requests; indexes are absolute, so marks stay valid."""

    def __init__(self, signal: ChangeSignal, limit: int | None = 100_000) -> None:
        self._signal = signal
        self._requests: collections.deque[RecordedRequest] = collections.deque(maxlen=limit)
        self._next_index = 0
        self._completed = 0
        self.unhandled: list[RecordedRequest] = []

    @property
    def next_index(self) -> int:
        return self._next_index

    def new_record(self, **fields: Any) -> RecordedRequest:
        record = RecordedRequest(index=self._next_index, **fields)
        self._next_index += 1
        return record

    def complete(self, record: RecordedRequest, *, unhandled: bool = False) -> None:
        """Stores a request once it has been answered, and wakes waiters."""
        record.order = self._completed
        self._completed += 1
        self._requests.append(record)
        if unhandled:
            self.unhandled.append(record)
        self._signal.notify(REQUESTS_TOPIC)

    @property
    def requests(self) -> list[RecordedRequest]:
        return sorted(self._requests, key=lambda r: r.index)

    def matching(
        self,
        method: str | None,
        path_regex: str | re.Pattern[str],
        *,
        after: int = 0,
        predicate: Callable[[RecordedRequest], bool] | None = None,
    ) -> list[RecordedRequest]:
        """Requests with index >= ``after`` whose path fully matches ``path_regex``."""
        pattern = _compile(path_regex)
        return [
            record
            for record in self.requests
            if record.index >= after and _matches(record, method, pattern, predicate)
        ]

    async def wait(
        self,
        method: str | None,
        path_regex: str | re.Pattern[str],
        *,
        after: int,
        predicate: Callable[[RecordedRequest], bool] | None,
        timeout: float,  # noqa: ASYNC109
    ) -> RecordedRequest:
        """Waits for the first matching request with index >= ``after`` (checked incrementally)."""
        pattern = _compile(path_regex)
        last_checked = -1

        def find() -> RecordedRequest | None:
            nonlocal last_checked
            fresh: list[RecordedRequest] = []
            for record in reversed(self._requests):
                if record.order <= last_checked:
                    break
                fresh.append(record)
            if fresh:
                last_checked = fresh[0].order
            for record in reversed(fresh):
                if record.index >= after and _matches(record, method, pattern, predicate):
                    return record
            return None

        def describe() -> str:
            seen = [f"{r.method} {r.path} -> {r.status}" for r in self.requests if r.index >= after]
            return f"a request {method or '*'} {pattern.pattern}; requests seen since: {seen[-15:]}"

        return await self._signal.wait_until(find, timeout, describe, REQUESTS_TOPIC)


def _matches(
    record: RecordedRequest,
    method: str | None,
    pattern: re.Pattern[str],
    predicate: Callable[[RecordedRequest], bool] | None,
) -> bool:
    if method is not None and record.method != method.upper():
        return False
    if pattern.fullmatch(record.path) is None:
        return False
    return predicate is None or predicate(record)
