"""Turn a chat reply into a ``chat.completion`` body or the ``chat.completion.chunk`` sequence."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import tokens
from .ids import new_id
from .profiles import OPENAI, ServerProfile
from .replies import ChatReply, RefusalReply, TextReply, ToolCallsReply

SYSTEM_FINGERPRINT = "fp_toolcord_emu"


@dataclass(frozen=True)
class ChatContext:
    """Per-request facts the rendering needs."""

    completion_id: str
    created: int
    model: str
    prompt_tokens: int
    include_usage: bool
    chunk_size: int
    max_tokens: int | None


@dataclass(frozen=True)
class _Call:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Answer:
    """The reply with ids assigned and the ``max_tokens`` limit applied."""

    content: str | None
    refusal: str | None
    reasoning: str | None
    calls: tuple[_Call, ...]
    finish_reason: str
    usage: dict[str, Any]


def answer_for(reply: ChatReply, ctx: ChatContext) -> Answer:
    """Return the :class:`Answer` for ``reply`` in request context ``ctx``."""
    content: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    calls: tuple[_Call, ...] = ()
    finish: str = reply.finish_reason
    if isinstance(reply, TextReply):
        content, reasoning = reply.content, reply.reasoning_content
        content, finish = _apply_max_tokens(content, finish, ctx.max_tokens)
    elif isinstance(reply, ToolCallsReply):
        content = reply.content
        calls = tuple(
            _Call(call.id or new_id("call_"), call.name, call.arguments_text())
            for call in reply.calls
        )
    elif isinstance(reply, RefusalReply):
        refusal = reply.refusal
    usage = _usage(ctx.prompt_tokens, content, refusal, reasoning, calls, reply.usage)
    return Answer(content, refusal, reasoning, calls, finish, usage)


def _apply_max_tokens(content: str, finish: str, max_tokens: int | None) -> tuple[str, str]:
    if max_tokens is None or finish != "stop" or tokens.text_tokens(content) <= max_tokens:
        return content, finish
    return content[: max_tokens * tokens.CHARS_PER_TOKEN], "length"


def _usage(
    prompt: int,
    content: str | None,
    refusal: str | None,
    reasoning: str | None,
    calls: tuple[_Call, ...],
    override: Mapping[str, int] | None,
) -> dict[str, Any]:
    reasoning_tokens = tokens.text_tokens(reasoning or "")
    completion = tokens.text_tokens(content or "") + tokens.text_tokens(refusal or "")
    completion += reasoning_tokens
    completion += sum(tokens.text_tokens(c.name) + tokens.text_tokens(c.arguments) for c in calls)
    usage: dict[str, Any] = {"prompt_tokens": prompt, "completion_tokens": completion}
    usage.update(override or {})
    usage.setdefault("total_tokens", usage["prompt_tokens"] + usage["completion_tokens"])
    usage["prompt_tokens_details"] = {"cached_tokens": 0, "audio_tokens": 0}
    usage["completion_tokens_details"] = {
        "reasoning_tokens": reasoning_tokens,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    }
    return usage


def completion_body(
    answer: Answer, ctx: ChatContext, profile: ServerProfile = OPENAI
) -> dict[str, Any]:
    """Return the non-streaming ``chat.completion`` object (shaped as ``profile`` sends it)."""
    content = _with_think_tags(answer, profile)
    message: dict[str, Any] = {
        "role": "assistant",
        "content": content,
        "refusal": answer.refusal,
        "annotations": [],
    }
    if answer.reasoning is not None and profile.reasoning_field != "think_tags":
        message[profile.reasoning_field] = answer.reasoning
    if answer.calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in answer.calls
        ]
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": _finish_reason(answer, profile),
    }
    return {
        "id": ctx.completion_id,
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.model,
        "choices": [choice],
        "usage": answer.usage,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def stream_chunks(
    answer: Answer, ctx: ChatContext, chunk_size: int, profile: ServerProfile = OPENAI
) -> list[dict[str, Any]]:
    """Return every ``chat.completion.chunk`` of the streamed answer, in order (no ``[DONE]``).

    ``profile`` shapes the tool-call deltas, the reasoning field and the finish reason the way
    that server sends them (see ``profiles.py``); ``ctx.include_usage`` already says whether the
    usage chunk is sent.
    """
    deltas = list(_deltas(answer, max(1, chunk_size), profile))
    chunks = [_chunk(ctx, delta, None) for delta in deltas]
    chunks.append(_chunk(ctx, {}, _finish_reason(answer, profile)))
    if ctx.include_usage:
        final = _chunk(ctx, None, None)
        final["usage"] = answer.usage
        chunks.append(final)
    return chunks


def _finish_reason(answer: Answer, profile: ServerProfile) -> str:
    if answer.calls and answer.finish_reason == "tool_calls":
        return profile.tool_finish_reason
    return answer.finish_reason


def _with_think_tags(answer: Answer, profile: ServerProfile) -> str | None:
    if profile.reasoning_field != "think_tags" or not answer.reasoning:
        return answer.content
    return f"<think>{answer.reasoning}</think>{answer.content or ''}"


def _deltas(answer: Answer, size: int, profile: ServerProfile) -> Iterator[dict[str, Any]]:
    content = _with_think_tags(answer, profile)
    first: dict[str, Any] = {"role": "assistant", "content": "", "refusal": None}
    if content is None:
        first["content"] = None
    if answer.refusal is not None:
        first["refusal"] = ""
    yield first
    if profile.reasoning_field != "think_tags":
        for piece in _pieces(answer.reasoning or "", size):
            yield {profile.reasoning_field: piece}
    for piece in _pieces(content or "", size):
        yield {"content": piece}
    for piece in _pieces(answer.refusal or "", size):
        yield {"refusal": piece}
    for index, call in enumerate(answer.calls):
        yield from _call_deltas(index, call, size, profile)


def _call_deltas(
    index: int, call: _Call, size: int, profile: ServerProfile
) -> Iterator[dict[str, Any]]:
    where: dict[str, Any] = {}
    if profile.call_index == "sequential":
        where["index"] = index
    elif profile.call_index == "zero":
        where["index"] = 0
    head: dict[str, Any] = {**where, "type": "function"}
    if profile.call_ids:
        head["id"] = call.id
    if profile.whole_calls:
        function = {"name": call.name, "arguments": call.arguments}
        yield {"tool_calls": [{**head, "function": function}]}
        return
    yield {"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]}
    for piece in _pieces(call.arguments, size):
        yield {"tool_calls": [{**where, "function": {"arguments": piece}}]}


def _pieces(text: str, size: int) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _chunk(ctx: ChatContext, delta: dict[str, Any] | None, finish: str | None) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": ctx.completion_id,
        "object": "chat.completion.chunk",
        "created": ctx.created,
        "model": ctx.model,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if ctx.include_usage:
        chunk["usage"] = None
    return chunk
