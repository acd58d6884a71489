"""Every request the emulator received, and waiting for the next ones."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .multipart import UploadedFile


@dataclass
class RecordedRequest:
    """One HTTP request as the emulator saw it (before any fault or validation was applied)."""

    index: int
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    time: float
    body: bytes = b""
    json: Any = None
    form: dict[str, Any] | None = None
    files: list[UploadedFile] = field(default_factory=list)

    @property
    def retry_count(self) -> int | None:
        """The SDK's ``x-stainless-retry-count`` header (0 on a first attempt), if sent."""
        value = self.headers.get("x-stainless-retry-count")
        return int(value) if value is not None and value.isdigit() else None


@dataclass
class _Waiter:
    path: str
    after: int
    count: int
    future: asyncio.Future[list[RecordedRequest]]


class Recorder:
    """The request log of one emulator."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.unhandled: list[RecordedRequest] = []
        self._waiters: list[_Waiter] = []

    def add(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        **content: Any,
    ) -> RecordedRequest:
        """Record a request; ``content`` is ``body``, ``json``, ``form`` and/or ``files``."""
        recorded = RecordedRequest(
            index=len(self.requests),
            method=method,
            path=path,
            query=dict(query),
            headers={key.lower(): value for key, value in headers.items()},
            time=time.monotonic(),
            **content,
        )
        self.requests.append(recorded)
        if self._waiters:
            self._wake()
        return recorded

    def mark(self) -> int:
        """Return a position in the log; pass it as ``after=`` to ignore older requests."""
        return len(self.requests)

    def matching(self, path: str, after: int = 0) -> list[RecordedRequest]:
        """Return the requests to ``path`` recorded at or after position ``after``."""
        return [r for r in self.requests[after:] if r.path == path]

    async def wait(
        self,
        path: str,
        *,
        after: int,
        count: int,
        timeout: float,  # noqa: ASYNC109 - the test kit's documented API takes a timeout
    ) -> list[RecordedRequest]:
        """Wait until ``count`` requests to ``path`` were recorded after ``after``; return them."""
        found = self.matching(path, after)
        if len(found) >= count:
            return found[:count]
        waiter = _Waiter(path, after, count, asyncio.get_running_loop().create_future())
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            seen = sorted({f"{r.method} {r.path}" for r in self.requests[after:]}) or ["nothing"]
            raise AssertionError(
                f"the OpenAI emulator received {len(self.matching(path, after))} of {count} "
                f"expected request(s) to {path} within {timeout} s; since the mark it saw: "
                + ", ".join(seen)
            ) from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def _wake(self) -> None:
        for waiter in list(self._waiters):
            if waiter.future.done():
                continue
            found = self.matching(waiter.path, waiter.after)
            if len(found) >= waiter.count:
                waiter.future.set_result(found[: waiter.count])
