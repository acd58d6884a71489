"""Condition-based waiting: state changes wake the waiters, who re-check their predicate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class EmulatorTimeout(TimeoutError):
    """A test waited for something the bot did not do in time; the message says what."""


class ChangeSignal:
    """Wakes waiters on ``notify()``; no polling, no sleeps.

    A waiter may listen to one topic (e.g. a channel's messages, or "requests"): then only
    ``notify(topic)`` and plain ``notify()`` (which means "anything changed") wake it.
    """

    def __init__(self) -> None:
        self._waiters: dict[Hashable | None, list[asyncio.Future[None]]] = {}

    def notify(self, topic: Hashable | None = None) -> None:
        if topic is None:
            groups, self._waiters = list(self._waiters.values()), {}
        else:
            groups = [self._waiters.pop(topic, []), self._waiters.pop(None, [])]
        for waiters in groups:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def wait_until(
        self,
        predicate: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str] | str = "the condition",
        topic: Hashable | None = None,
    ) -> T:
        """Returns the first truthy value of ``predicate()``, re-checked after every change.

        Raises:
            EmulatorTimeout: if it stays falsy for ``timeout`` seconds; the message names what
                was awaited (``describe``) so that the test author sees what the bot failed to do.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                text = describe() if callable(describe) else describe
                raise EmulatorTimeout(f"waited {timeout:.1f} s for {text}, in vain")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(topic, []).append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                continue
