"""Write a server-sent-events stream, with the scripted stream faults applied."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .faults import Fault

DONE_EVENT = b"data: [DONE]\n\n"
CORRUPT_EVENT = b'data: {"id": "chatcmpl-corrupt", "choices": [{"delta": {"content": "\n\n'
STREAM_CONTENT_TYPE = "text/event-stream; charset=utf-8"
Pause = Callable[[float], Awaitable[None]]


def encode_event(data: Any, *, name: str | None = None) -> bytes:
    """Return one ``data: <json>`` event (``event: <name>`` first when named)."""
    line = b"data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    if name is not None:
        line = b"event: " + name.encode() + b"\n" + line
    return line + b"\n\n"


@dataclass(frozen=True)
class StreamPlan:
    """How to deliver a stream: delays and the fault to apply."""

    chunk_delay: float = 0.0
    fault: Fault | None = None


async def write_stream(
    request: web.Request,
    events: Sequence[bytes],
    plan: StreamPlan,
    headers: Mapping[str, str],
    pause: Pause,
    *,
    done: bytes | None = DONE_EVENT,
    corrupt: bytes = CORRUPT_EVENT,
) -> web.StreamResponse:
    """Send ``events`` then ``done`` (``[DONE]``; None: nothing) as an SSE response.

    A fault scheduled ``after_chunks`` = N acts once N events were sent (never after ``[DONE]``).
    A client that goes away ends the stream quietly.
    """
    response = web.StreamResponse(
        status=200, headers={**headers, "Content-Type": STREAM_CONTENT_TYPE}
    )
    await response.prepare(request)
    fault = plan.fault
    all_events = [*events, done] if done is not None else list(events)
    act_at = min(fault.after_chunks, len(all_events) - 1) if fault is not None else -1
    try:
        if fault is not None and fault.kind == "slow_first_token":
            await pause(fault.seconds)
        for index, event in enumerate(all_events):
            if index == act_at and fault is not None:
                if await _act(fault, request, response, pause, corrupt):
                    return response
            elif index and plan.chunk_delay:
                await pause(plan.chunk_delay)
            await response.write(event)
        await response.write_eof()
    except ConnectionError:
        pass  # the client went away; nothing left to deliver
    return response


async def _act(
    fault: Fault, request: web.Request, response: web.StreamResponse, pause: Pause, corrupt: bytes
) -> bool:
    """Apply ``fault``; return True when the stream is over."""
    if fault.kind == "cut_stream":
        await response.write_eof()
        return True
    if fault.kind == "disconnect":
        if request.transport is not None:
            request.transport.abort()
        return True
    if fault.kind == "stall_mid_stream":
        await pause(fault.seconds)
    elif fault.kind == "corrupt_chunk":
        await response.write(corrupt)
    return False
