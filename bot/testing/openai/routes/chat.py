"""``POST /v1/chat/completions``: JSON and SSE streams, text, tool calls, refusals."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from .. import rules, tokens
from ..chat_render import ChatContext, answer_for, completion_body, stream_chunks
from ..faults import context_length_error
from ..ids import new_id
from ..replies import ChatReply, RefusalReply, TextReply, ToolCallsReply
from ..script import ChatScript
from ..sse import StreamPlan, encode_event, write_stream
from ..state import EmulatorState
from .common import base_headers, before_response, receive_json, respond_json

REQUEST_SCHEMA = "CreateChatCompletionRequest"


async def chat_completions(
    state: EmulatorState, script: ChatScript, request: web.Request
) -> web.StreamResponse:
    """Answer one chat completion request from ``script``."""
    body = await receive_json(state, request, REQUEST_SCHEMA, state.book.chat_request_issues)
    profile = script.profile
    refusal = profile.refusal_for(body)
    if refusal is not None:  # the server's own 400, in its own error shape
        error = dict(refusal.error)
        return respond_json(state, request, error, "ErrorResponse", status=400, checked=True)
    rules.check_chat_request(body)  # OpenAI's model rules (rules.py)
    model = str(body.get("model") or "gpt-4o")
    prompt = tokens.prompt_tokens(body)
    max_tokens = _max_tokens(body)

    def check_context_window() -> None:
        window = script.context_window
        if window is not None and prompt + (max_tokens or 0) > window:
            raise context_length_error(model, limit=window, requested=prompt + (max_tokens or 0))

    step = await script.next_step(body, pause=state.pause, before_reply=check_context_window)
    stream = body.get("stream") is True
    await before_response(state, request, step.fault, model, stream=stream)
    reply = _as_chat_reply(step.reply)
    await state.pause(reply.latency if reply.latency is not None else script.latency)
    context = ChatContext(
        completion_id=new_id("chatcmpl-", 29),
        created=int(time.time()),
        model=reply.model or model,
        prompt_tokens=prompt,
        include_usage=stream and profile.usage and _include_usage(body),
        chunk_size=reply.chunk_size or script.chunk_size,
        max_tokens=max_tokens,
    )
    answer = answer_for(reply, context)
    if not stream:
        data = completion_body(answer, context, profile)
        return respond_json(
            state,
            request,
            data,
            "CreateChatCompletionResponse",
            fault=step.fault,
            checked=not profile.is_openai,
        )
    chunks = stream_chunks(answer, context, context.chunk_size, profile)
    if profile.is_openai:  # other servers' chunks break OpenAI's schema on purpose
        for chunk in chunks:
            state.check_response(
                request, "CreateChatCompletionStreamResponse", chunk, by_shape=True
            )
    events = [encode_event(chunk) for chunk in chunks]
    plan = StreamPlan(chunk_delay=reply.chunk_delay, fault=step.fault)
    return await write_stream(request, events, plan, base_headers(request), state.pause)


def _as_chat_reply(reply: object) -> ChatReply:
    if isinstance(reply, str):
        return TextReply(reply)
    if isinstance(reply, (TextReply, ToolCallsReply, RefusalReply)):
        return reply
    raise TypeError(
        f"a chat reply must be a TextReply, ToolCallsReply, RefusalReply, str or Fault, not "
        f"{reply!r}: fix the test's emu.chat.reply()/set_default() argument"
    )


def _max_tokens(body: dict[str, Any]) -> int | None:
    value = body.get("max_completion_tokens")
    if value is None:
        value = body.get("max_tokens")
    return value if isinstance(value, int) else None


def _include_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True
