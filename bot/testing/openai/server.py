"""``OpenAIEmulator``: a loopback OpenAI-compatible HTTP server for tests.

The real ``openai.AsyncOpenAI`` client talks to it through ``base_url=emu.base_url``::

    async with OpenAIEmulator() as emu:
        emu.chat.reply_text("Hello!")
        client = AsyncOpenAI(api_key="sk-test", base_url=emu.base_url, max_retries=0)
        ...
        emu.assert_no_violations()

It runs on the caller's event loop, on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from types import TracebackType
from typing import Any

from aiohttp import web

from .errors import ApiError, ConnectionDropped
from .ids import request_id
from .profiles import ServerProfile
from .recorder import RecordedRequest
from .responses_script import ResponsesScript
from .routes import audio, chat, embeddings, images, models, moderations, realtime, responses
from .routes.common import REQUEST_ID, error_response
from .script import (
    ChatScript,
    EmbeddingScript,
    ImageScript,
    ModerationScript,
    RealtimeScript,
    RouteScript,
    SpeechScript,
    TranscriptionScript,
)
from .state import MAX_UPLOAD_BYTES, EmulatorState, Options
from .validation import SchemaIssue, Violation

logger = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
DEFAULT_MODELS = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-5",
    "gpt-5.4",
    "gpt-5.4-mini",
    "gpt-5.5",
    "gpt-5.6-terra",
    "gpt-image-1.5",
    "omni-moderation-latest",
    "whisper-1",
    "gpt-4o-mini-tts",
    "gpt-realtime-2.1-mini",
    "text-embedding-3-small",
    "text-embedding-3-large",
)


class OpenAIEmulator:
    """A scripted OpenAI API on 127.0.0.1; see the package docstring for the tour.

    Args:
        validate_requests: check request bodies against OpenAI's schema (400 + violation).
        validate_responses: check the emulator's own bodies against OpenAI's schema.
        api_key: when set, requests without ``Authorization: Bearer <api_key>`` get 401.
        max_upload_bytes: uploads above this get 413 (OpenAI: 25 MiB).
        host: interface to listen on (loopback only by default).
        port: TCP port (0 picks a free one).
        profile: the OpenAI-compatible server the chat route behaves like (a name from
            ``profiles.PROFILES`` or a ``ServerProfile``; default ``"openai"``).
    """

    def __init__(
        self,
        *,
        validate_requests: bool = True,
        validate_responses: bool = True,
        api_key: str | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        host: str = "127.0.0.1",
        port: int = 0,
        profile: str | ServerProfile = "openai",
    ) -> None:
        options = Options(validate_requests, validate_responses, api_key, max_upload_bytes)
        self._state = EmulatorState(options)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.chat = ChatScript()
        self.responses = ResponsesScript()
        self.chat.use_profile(profile)
        self.images = ImageScript("/v1/images/generations")
        self.image_edits = ImageScript("/v1/images/edits")
        self.moderations = ModerationScript()
        self.transcriptions = TranscriptionScript()
        self.speech = SpeechScript()
        self.realtime = RealtimeScript()
        self.embeddings = EmbeddingScript()
        self.models: list[str] = list(DEFAULT_MODELS)

    # ---- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening; ``base_url`` is valid afterwards."""
        if self._runner is not None:
            raise RuntimeError("this OpenAIEmulator is already started")
        self._state.stopping = asyncio.Event()
        runner = web.AppRunner(
            self._build_app(), access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, backlog=1024)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]

    async def stop(self) -> None:
        """Stop listening; stalled requests are dropped."""
        if self._runner is None:
            return
        self._state.stopping.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> OpenAIEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port (after ``start()``)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, for ``AsyncOpenAI(base_url=...)``."""
        if self._runner is None:
            raise RuntimeError(
                "start the OpenAIEmulator (await emu.start()) before asking for base_url"
            )
        return f"http://{self._host}:{self._port}/v1"

    # ---- the request log ----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order (invalid and faulted ones included)."""
        return self._state.recorder.requests

    @property
    def unhandled(self) -> list[RecordedRequest]:
        """Requests to routes the emulator does not serve (answered 404)."""
        return self._state.recorder.unhandled

    def mark(self) -> int:
        """Return a position in the request log for ``after=`` arguments."""
        return self._state.recorder.mark()

    async def wait_request(
        self,
        path: str,
        *,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - documented test-kit API
    ) -> RecordedRequest:
        """Wait for the first request to ``path`` at or after position ``after``; return it."""
        found = await self._state.recorder.wait(path, after=after, count=1, timeout=timeout)
        return found[0]

    async def wait_requests(
        self,
        path: str,
        count: int,
        *,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - documented test-kit API
    ) -> list[RecordedRequest]:
        """Wait until ``count`` requests to ``path`` arrived after ``after``; return them."""
        return await self._state.recorder.wait(path, after=after, count=count, timeout=timeout)

    def attempts(self, path: str, *, after: int = 0) -> int:
        """How many requests reached ``path`` after ``after`` (retries included)."""
        return len(self._state.recorder.matching(path, after))

    def retry_counts(self, path: str, *, after: int = 0) -> list[int | None]:
        """The ``x-stainless-retry-count`` of each request to ``path`` (None when absent)."""
        return [r.retry_count for r in self._state.recorder.matching(path, after)]

    # ---- violations ---------------------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        """Requests that broke OpenAI's schema, responses that did, and emulator errors."""
        return self._state.violations

    def take_violations(self) -> list[Violation]:
        """Return the violations so far and forget them (for tests that expect some)."""
        taken = list(self._state.violations)
        self._state.violations.clear()
        return taken

    def assert_no_violations(self) -> None:
        """Raise ``AssertionError`` listing every violation, if there is any."""
        if self._state.violations:
            listed = "\n".join(f"  - {v}" for v in self._state.violations)
            raise AssertionError(
                f"the OpenAI emulator recorded {len(self._state.violations)} violation(s); fix the "
                f"request the code sent (or call emu.take_violations() if the test expects them):\n"
                + listed
            )

    def clear_faults(self) -> None:
        """Drop every queued and sticky fault on every route."""
        for script in self._scripts():
            script.clear_faults()

    def _scripts(self) -> tuple[RouteScript[Any], ...]:
        return (
            self.chat,
            self.responses,
            self.images,
            self.image_edits,
            self.moderations,
            self.transcriptions,
            self.speech,
            self.realtime,
            self.embeddings,
        )

    # ---- the app ------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        state = self._state
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        add = app.router.add_route
        add("POST", "/v1/chat/completions", partial(chat.chat_completions, state, self.chat))
        add("POST", "/v1/responses", partial(responses.responses, state, self.responses))
        add("POST", "/v1/images/generations", partial(images.generations, state, self.images))
        add("POST", "/v1/images/edits", partial(images.edits, state, self.image_edits))
        add("GET", images.FILES_PATH + "{name}", partial(images.served_file, state))
        add("POST", "/v1/moderations", partial(moderations.moderations, state, self.moderations))
        add(
            "POST",
            "/v1/audio/transcriptions",
            partial(audio.transcriptions, state, self.transcriptions),
        )
        add("POST", "/v1/audio/speech", partial(audio.speech, state, self.speech))
        add("GET", "/v1/realtime", partial(realtime.realtime, state, self.realtime, self.models))
        add("POST", "/v1/embeddings", partial(embeddings.embeddings, state, self.embeddings))
        add("GET", "/v1/models", partial(models.list_models, state, self.models))
        add("GET", "/v1/models/{model}", partial(models.retrieve_model, state, self.models))
        add("*", "/{tail:.*}", self._unknown_route)
        return app

    async def _unknown_route(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        recorder = self._state.recorder
        recorded = recorder.add(
            request.method, request.path, request.query, request.headers, body=raw
        )
        recorder.unhandled.append(recorded)
        raise ApiError(404, f"Invalid URL ({request.method} {request.path})")

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        request[REQUEST_ID] = request_id()
        try:
            response = await handler(request)
        except ApiError as error:
            response = error_response(self._state, request, error)
        except ConnectionDropped:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError from None
        except Exception as error:  # an emulator bug: report it instead of hiding it
            logger.exception("OpenAI emulator failed on %s %s", request.method, request.path)
            self._state.add_violation("emulator", request, "emulator", [_bug_issue(error)])
            bug = ApiError(500, f"emulator error: {error!r}", error_type="server_error")
            response = error_response(self._state, request, bug)
        if not response.prepared:
            response.headers.setdefault("x-request-id", request[REQUEST_ID])
        return response


def _bug_issue(error: Exception) -> SchemaIssue:
    return SchemaIssue((), f"{type(error).__name__}: {error}", "emulator")
