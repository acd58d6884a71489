"""Turn a scripted reply into a Responses API ``response`` object or its stream of events.

Output items, in order: a ``reasoning`` item when the model reasons at the requested effort (its
summary only when the request asks for one, its ``encrypted_content`` only when ``include`` asks
for it), then a ``message`` (text or refusal) and ``function_call`` items. The stream is the event
sequence OpenAI sends: ``response.created``, ``response.in_progress``, per item
``response.output_item.added`` … ``response.output_item.done``, and one terminal event
(``response.completed``, ``response.incomplete`` or ``response.failed``), or an ``error`` event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import tokens
from .ids import new_id
from .replies import ChatReply, RefusalReply, TextReply, ToolCallsReply
from .responses_replies import FailedReply, ResponsesReply, StreamErrorReply, WebSearchReply

DEFAULT_REASONING_TOKENS = 12
ENCRYPTED_PREFIX = "gAAAAA-toolcord-emu:"


@dataclass(frozen=True)
class ResponsesContext:
    """Per-request facts the rendering needs."""

    response_id: str
    created_at: int
    model: str
    body: Mapping[str, Any]
    input_tokens: int
    chunk_size: int
    max_output_tokens: int | None
    effort: str | None
    summary: bool
    encrypted: bool


@dataclass
class Rendered:
    """The response: its items, final status, usage and (for a failure) the error."""

    items: list[dict[str, Any]]
    status: str
    usage: dict[str, Any]
    incomplete_reason: str | None = None
    error: dict[str, Any] | None = None
    stream_error: StreamErrorReply | None = None
    deltas: dict[int, list[str]] = field(default_factory=dict)


def reasoning_token(item_id: str, model: str) -> str:
    """The opaque ``encrypted_content`` of a reasoning item (the emulator can read it back)."""
    payload = json.dumps({"id": item_id, "model": model}, separators=(",", ":"))
    return ENCRYPTED_PREFIX + payload.encode().hex()


def read_reasoning_token(token: str) -> dict[str, Any] | None:
    """The payload of a token from :func:`reasoning_token`, or None for any other string."""
    if not token.startswith(ENCRYPTED_PREFIX):
        return None
    try:
        payload = json.loads(bytes.fromhex(token[len(ENCRYPTED_PREFIX) :]))
    except ValueError:
        return None
    return payload if isinstance(payload, dict) else None


def render(reply: ResponsesReply, ctx: ResponsesContext) -> Rendered:
    """Return the :class:`Rendered` response for ``reply``."""
    items: list[dict[str, Any]] = []
    reasoning_tokens = 0
    if ctx.effort not in (None, "none"):
        summary = _summary_text(reply)
        items.append(_reasoning_item(ctx, summary))
        reasoning_tokens = tokens.text_tokens(summary) or DEFAULT_REASONING_TOKENS
    status, incomplete, error, stream_error = "completed", None, None, None
    if isinstance(reply, FailedReply):
        if reply.partial_text:
            items.append(_message(reply.partial_text, "incomplete"))
        status, error = "failed", {"code": reply.code, "message": reply.message}
    elif isinstance(reply, StreamErrorReply):
        stream_error = reply
    elif isinstance(reply, WebSearchReply):
        items.extend(_web_search_items(reply))
    else:
        incomplete = _answer_items(reply, ctx, items)
        if incomplete is not None:
            status = "incomplete"
    usage = _usage(ctx, items, reasoning_tokens, reply)
    return Rendered(items, status, usage, incomplete, error, stream_error)


def _summary_text(reply: ResponsesReply) -> str:
    if isinstance(reply, TextReply) and reply.reasoning_content:
        return reply.reasoning_content
    if isinstance(reply, ToolCallsReply):
        names = ", ".join(call.name for call in reply.calls)
        return f"The user's question needs {names}; calling it."
    return "Answering the user directly."


def _reasoning_item(ctx: ResponsesContext, summary: str) -> dict[str, Any]:
    item_id = new_id("rs_", 40)
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": item_id,
        "summary": [{"type": "summary_text", "text": summary}] if ctx.summary else [],
    }
    if ctx.encrypted:
        item["encrypted_content"] = reasoning_token(item_id, ctx.model)
    return item


def _web_search_items(reply: WebSearchReply) -> list[dict[str, Any]]:
    sources = [{"type": "url", "url": citation.url} for citation in reply.citations]
    call = {
        "type": "web_search_call",
        "id": new_id("ws_", 40),
        "status": "completed",
        "action": {"type": "search", "queries": [reply.query], "sources": sources},
    }
    message = _message(reply.text, "completed")
    message["content"][0]["annotations"] = [
        _citation(reply.text, citation) for citation in reply.citations
    ]
    return [call, message]


def _citation(text: str, citation: Any) -> dict[str, Any]:
    start = text.find(citation.quote) if citation.quote else 0
    start = max(start, 0)
    end = start + len(citation.quote) if citation.quote else len(text)
    return {
        "type": "url_citation",
        "url": citation.url,
        "title": citation.title,
        "start_index": start,
        "end_index": end,
    }


def _message(text: str, status: str, *, refusal: bool = False) -> dict[str, Any]:
    part: dict[str, Any] = (
        {"type": "refusal", "refusal": text}
        if refusal
        else {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    )
    return {
        "type": "message",
        "id": new_id("msg_", 40),
        "role": "assistant",
        "status": status,
        "content": [part],
    }


def _answer_items(
    reply: ChatReply, ctx: ResponsesContext, items: list[dict[str, Any]]
) -> str | None:
    """Append the answer's items; return the incomplete reason, if any."""
    if isinstance(reply, RefusalReply):
        items.append(_message(reply.refusal, "completed", refusal=True))
        return None
    if isinstance(reply, ToolCallsReply):
        if reply.content:
            items.append(_message(reply.content, "completed"))
        for call in reply.calls:
            items.append(
                {
                    "type": "function_call",
                    "id": new_id("fc_", 40),
                    "call_id": call.id or new_id("call_"),
                    "name": call.name,
                    "arguments": call.arguments_text(),
                    "status": "completed",
                }
            )
        return None
    text, reason = reply.content, None
    if reply.finish_reason == "length":
        reason = "max_output_tokens"
    elif reply.finish_reason == "content_filter":
        reason = "content_filter"
    limit = ctx.max_output_tokens
    if reason is None and limit is not None and tokens.text_tokens(text) > limit:
        text, reason = text[: limit * tokens.CHARS_PER_TOKEN], "max_output_tokens"
    items.append(_message(text, "incomplete" if reason else "completed"))
    return reason


def _usage(
    ctx: ResponsesContext, items: list[dict[str, Any]], reasoning_tokens: int, reply: Any
) -> dict[str, Any]:
    output = reasoning_tokens
    for item in items:
        if item["type"] == "message":
            part = item["content"][0]
            output += tokens.text_tokens(part.get("text") or part.get("refusal") or "")
        elif item["type"] == "function_call":
            output += tokens.text_tokens(item["name"]) + tokens.text_tokens(item["arguments"])
        elif item["type"] == "web_search_call":
            output += tokens.text_tokens(" ".join(item["action"].get("queries") or ()))
    usage: dict[str, Any] = {"input_tokens": ctx.input_tokens, "output_tokens": output}
    override = getattr(reply, "usage", None)
    usage.update(override or {})
    usage.setdefault("total_tokens", usage["input_tokens"] + usage["output_tokens"])
    usage["input_tokens_details"] = {"cached_tokens": 0, "cache_write_tokens": 0}
    usage["output_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return usage


# ---- the response object ------------------------------------------------------------------


def response_object(
    ctx: ResponsesContext,
    status: str,
    output: list[dict[str, Any]],
    rendered: Rendered | None = None,
) -> dict[str, Any]:
    """The ``response`` object at ``status`` (usage only once it is over)."""
    body = ctx.body
    done = rendered is not None and status != "in_progress"
    incomplete = rendered.incomplete_reason if rendered is not None and done else None
    response: dict[str, Any] = {
        "id": ctx.response_id,
        "object": "response",
        "created_at": ctx.created_at,
        "status": status,
        "background": False,
        "error": rendered.error if rendered is not None and done else None,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": ctx.model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": {"effort": ctx.effort, "summary": "auto" if ctx.summary else None},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": list(body.get("tools") or []),
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "metadata": {},
    }
    if rendered is not None and done:
        response["usage"] = rendered.usage
    return response


def final_object(ctx: ResponsesContext, rendered: Rendered) -> dict[str, Any]:
    """The finished ``response`` (the non-streamed answer, and the terminal event's payload)."""
    return response_object(ctx, rendered.status, rendered.items, rendered)


# ---- the event stream ---------------------------------------------------------------------


def stream_events(ctx: ResponsesContext, rendered: Rendered) -> list[dict[str, Any]]:
    """Every event of the streamed response, in order, with ``sequence_number`` set."""
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": response_object(ctx, "in_progress", [])},
        {"type": "response.in_progress", "response": response_object(ctx, "in_progress", [])},
    ]
    if rendered.stream_error is not None:
        error = rendered.stream_error
        events.append(
            {"type": "error", "code": error.code, "message": error.message, "param": error.param}
        )
    else:
        size = max(1, ctx.chunk_size)
        for index, item in enumerate(rendered.items):
            events.extend(_item_events(index, item, size))
        terminal = {"completed": "response.completed", "incomplete": "response.incomplete"}
        kind = terminal.get(rendered.status, "response.failed")
        events.append({"type": kind, "response": final_object(ctx, rendered)})
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return events


def _item_events(index: int, item: dict[str, Any], size: int) -> Iterator[dict[str, Any]]:
    kind = item["type"]
    yield {"type": "response.output_item.added", "output_index": index, "item": _opened(item)}
    if kind == "reasoning":
        yield from _summary_events(index, item, size)
    elif kind == "message":
        yield from _content_events(index, item, size)
    elif kind == "web_search_call":
        at = {"item_id": item["id"], "output_index": index}
        for step in ("in_progress", "searching", "completed"):
            yield {"type": f"response.web_search_call.{step}", **at}
    elif kind == "function_call":
        at = {"item_id": item["id"], "output_index": index}
        for piece in _pieces(item["arguments"], size):
            yield {"type": "response.function_call_arguments.delta", **at, "delta": piece}
        yield {
            "type": "response.function_call_arguments.done",
            **at,
            "name": item["name"],
            "arguments": item["arguments"],
        }
    yield {"type": "response.output_item.done", "output_index": index, "item": item}


def _opened(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` as ``response.output_item.added`` shows it: nothing written yet."""
    kind = item["type"]
    if kind == "message":
        return {**item, "status": "in_progress", "content": []}
    if kind == "function_call":
        return {**item, "status": "in_progress", "arguments": ""}
    if kind == "web_search_call":
        return {**item, "status": "in_progress", "action": {"type": "search"}}
    return {**item, "summary": []}


def _summary_events(index: int, item: dict[str, Any], size: int) -> Iterator[dict[str, Any]]:
    at = {"item_id": item["id"], "output_index": index}
    for summary_index, part in enumerate(item["summary"]):
        where = {**at, "summary_index": summary_index}
        empty = {"type": "summary_text", "text": ""}
        yield {"type": "response.reasoning_summary_part.added", **where, "part": empty}
        for piece in _pieces(part["text"], size):
            yield {"type": "response.reasoning_summary_text.delta", **where, "delta": piece}
        yield {"type": "response.reasoning_summary_text.done", **where, "text": part["text"]}
        yield {"type": "response.reasoning_summary_part.done", **where, "part": part}


def _content_events(index: int, item: dict[str, Any], size: int) -> Iterator[dict[str, Any]]:
    part = item["content"][0]
    at = {"item_id": item["id"], "output_index": index, "content_index": 0}
    if part["type"] == "refusal":
        yield {"type": "response.content_part.added", **at, "part": {**part, "refusal": ""}}
        for piece in _pieces(part["refusal"], size):
            yield {"type": "response.refusal.delta", **at, "delta": piece}
        yield {"type": "response.refusal.done", **at, "refusal": part["refusal"]}
    else:
        opened = {**part, "text": "", "annotations": []}
        yield {"type": "response.content_part.added", **at, "part": opened}
        for piece in _pieces(part["text"], size):
            yield {"type": "response.output_text.delta", **at, "delta": piece, "logprobs": []}
        for number, annotation in enumerate(part["annotations"]):
            yield {
                "type": "response.output_text.annotation.added",
                **at,
                "annotation_index": number,
                "annotation": annotation,
            }
        yield {"type": "response.output_text.done", **at, "text": part["text"], "logprobs": []}
    yield {"type": "response.content_part.done", **at, "part": part}


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]
