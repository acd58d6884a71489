"""Counting unhandled exceptions: ERROR log records with a traceback and asyncio's handler.

Anything that reaches discord.py's ``on_error`` ("Ignoring exception in on_message"), a task that
died with an exception nobody retrieved, or a ``log.exception`` in toolcord counts. Deliberate
owner alerts (``log.error`` without a traceback) do not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MAX_KEPT = 20


class ErrorWatch(logging.Handler):
    """A root-logger handler plus an event-loop exception handler that count what escaped."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.log_errors: list[str] = []
        self.loop_errors: list[str] = []

    @property
    def count(self) -> int:
        """Unhandled exceptions seen so far (log tracebacks plus loop handler calls)."""
        return len(self.log_errors) + len(self.loop_errors)

    def samples(self) -> list[str]:
        """A few of them, for the report."""
        return (self.log_errors + self.loop_errors)[:MAX_KEPT]

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[0] is not None:
            name = record.exc_info[0].__name__
            self.log_errors.append(f"{record.name}: {record.getMessage()[:200]} ({name})")

    def on_loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exception = context.get("exception")
        label = type(exception).__name__ if exception is not None else "no exception"
        self.loop_errors.append(f"loop: {context.get('message', '')[:200]} ({label})")

    @contextmanager
    def installed(self) -> Iterator[ErrorWatch]:
        """Count on the root logger and the running loop while inside the block."""
        loop = asyncio.get_running_loop()
        previous = loop.get_exception_handler()
        root = logging.getLogger()
        root.addHandler(self)
        loop.set_exception_handler(self.on_loop_error)
        try:
            yield self
        finally:
            root.removeHandler(self)
            loop.set_exception_handler(previous)
