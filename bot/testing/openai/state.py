"""What the routes of one emulator share: options, schemas, the request log, violations."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from .errors import ConnectionDropped
from .recorder import Recorder
from .validation import SchemaBook, SchemaIssue, Violation, ViolationKind

MAX_UPLOAD_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class Options:
    """Switches of one emulator.

    Attributes:
        validate_requests: check each request body against OpenAI's schema (400 + violation).
        validate_responses: check each body the emulator sends against OpenAI's schema.
        api_key: when set, requests must carry ``Authorization: Bearer <api_key>`` (else 401).
        max_upload_bytes: larger uploads get 413, like OpenAI's 25 MiB limit.
    """

    validate_requests: bool = True
    validate_responses: bool = True
    api_key: str | None = None
    max_upload_bytes: int = MAX_UPLOAD_BYTES


class EmulatorState:
    """Shared state of one emulator's routes."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.book = SchemaBook()
        self.recorder = Recorder()
        self.violations: list[Violation] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.stopping = asyncio.Event()

    def add_violation(
        self, kind: ViolationKind, request: web.Request, schema: str, issues: Sequence[SchemaIssue]
    ) -> None:
        """Record that ``request`` (or the emulator's answer to it) broke ``schema``."""
        self.violations.append(Violation(kind, request.method, request.path, schema, tuple(issues)))

    def check_response(
        self, request: web.Request, schema: str, body: object, *, by_shape: bool = False
    ) -> None:
        """Record a ``response`` violation if ``body`` does not match ``schema`` (when enabled).

        ``by_shape`` validates each shape of body once (see ``SchemaBook.shape_issues``).
        """
        if not self.options.validate_responses:
            return
        issues = (
            self.book.shape_issues(schema, body) if by_shape else self.book.issues(schema, body)
        )
        if issues:
            self.add_violation("response", request, schema, issues)

    async def pause(self, seconds: float) -> None:
        """Sleep ``seconds``; raise :class:`ConnectionDropped` if the emulator stops meanwhile."""
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self.stopping.wait(), seconds)
        except TimeoutError:
            return
        raise ConnectionDropped("the emulator is stopping")
