"""``POST /v1/responses``: the Responses API, streamed (named SSE events) and not.

Besides the schema, the route refuses what OpenAI refuses about ``input`` items: a
``function_call_output`` whose ``call_id`` no earlier ``function_call`` has, a ``function_call``
without its output, a reasoning item
sent back without its ``encrypted_content`` while ``store`` is false (OpenAI kept nothing), and
``encrypted_content`` that OpenAI did not issue. ``reasoning`` on a model that cannot reason is
an unsupported parameter, and so is ``include: ["reasoning.encrypted_content"]``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .. import rules, tokens
from ..errors import ApiError
from ..faults import context_length_error
from ..ids import new_id
from ..replies import RefusalReply, TextReply, ToolCallsReply
from ..responses_render import (
    ResponsesContext,
    final_object,
    read_reasoning_token,
    render,
    stream_events,
)
from ..responses_replies import FailedReply, ResponsesReply, StreamErrorReply, WebSearchReply
from ..responses_script import ResponsesScript, input_text
from ..sse import StreamPlan, encode_event, write_stream
from ..state import EmulatorState
from ..validation import SchemaIssue
from .common import base_headers, before_response, receive_json, reject, respond_json

REQUEST_SCHEMA = "CreateResponse"
ENCRYPTED_INCLUDE = "reasoning.encrypted_content"
CORRUPT_EVENT = (
    b"event: response.output_text.delta\n"
    b'data: {"type": "response.output_text.delta", "delta": "\n\n'
)


async def responses(
    state: EmulatorState, script: ResponsesScript, request: web.Request
) -> web.StreamResponse:
    """Answer one Responses API request from ``script``."""
    body = await receive_json(state, request, REQUEST_SCHEMA, state.book.responses_request_issues)
    model = str(body.get("model") or "gpt-5")
    if state.options.validate_requests:
        _check_input(state, request, body)
    effort = _effort(model, body)
    encrypted = ENCRYPTED_INCLUDE in (body.get("include") or ())
    if encrypted and not rules.is_reasoning_model(model):
        # pydantic/pydantic-ai#2865, ShishirPatil/gorilla#1148: gpt-4o and other non-reasoning
        # models refuse it.
        raise ApiError(400, "Encrypted content is not supported with this model.", param="include")
    prompt = input_tokens(body)
    max_tokens = body.get("max_output_tokens")
    max_tokens = max_tokens if isinstance(max_tokens, int) else None

    def check_context_window() -> None:
        window = script.context_window
        if window is not None and prompt + (max_tokens or 0) > window:
            raise context_length_error(model, limit=window, requested=prompt + (max_tokens or 0))

    step = await script.next_step(body, pause=state.pause, before_reply=check_context_window)
    stream = body.get("stream") is True
    await before_response(state, request, step.fault, model, stream=stream)
    reply = _as_reply(step.reply)
    if isinstance(reply, WebSearchReply) and not _offers_web_search(body):
        raise TypeError(
            "a WebSearchReply answers only a request that offers the hosted web_search tool "
            "(tools: [{'type': 'web_search'}]): fix the test or the code under test"
        )
    await state.pause(reply.latency if reply.latency is not None else script.latency)
    context = ResponsesContext(
        response_id=new_id("resp_", 48),
        created_at=int(time.time()),
        model=reply.model or model,
        body=body,
        input_tokens=prompt,
        chunk_size=reply.chunk_size or script.chunk_size,
        max_output_tokens=max_tokens,
        effort=effort,
        summary=_summary_wanted(body),
        encrypted=encrypted,
    )
    rendered = render(reply, context)
    if not stream:
        data = final_object(context, rendered)
        return respond_json(state, request, data, "Response", fault=step.fault)
    events = stream_events(context, rendered)
    for event in events:
        state.check_response(request, "ResponseStreamEvent", event, by_shape=True)
    encoded = [encode_event(event, name=event["type"]) for event in events]
    plan = StreamPlan(chunk_delay=reply.chunk_delay, fault=step.fault)
    headers = base_headers(request)
    return await write_stream(
        request, encoded, plan, headers, state.pause, done=None, corrupt=CORRUPT_EVENT
    )


def _as_reply(reply: object) -> ResponsesReply:
    if isinstance(reply, str):
        return TextReply(reply)
    known = (TextReply, ToolCallsReply, RefusalReply, FailedReply, StreamErrorReply, WebSearchReply)
    if isinstance(reply, known):
        return reply
    raise TypeError(
        f"a responses reply must be a TextReply, ToolCallsReply, RefusalReply, FailedReply, "
        f"StreamErrorReply, WebSearchReply, str or Fault, not {reply!r}: fix the test's "
        "emu.responses.reply()"
    )


def _offers_web_search(body: Mapping[str, Any]) -> bool:
    return any(
        isinstance(tool, dict) and str(tool.get("type", "")).startswith("web_search")
        for tool in body.get("tools") or ()
    )


def _effort(model: str, body: Mapping[str, Any]) -> str | None:
    """The effort the model reasons with; raises OpenAI's 400 when it cannot reason."""
    reasoning = body.get("reasoning")
    asked = reasoning.get("effort") if isinstance(reasoning, dict) else None
    if not rules.is_reasoning_model(model):
        if asked is not None:
            raise ApiError(
                400,
                "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
                param="reasoning.effort",
                code="unsupported_parameter",
            )
        return None
    return str(asked) if asked is not None else rules.default_effort(model)


def _summary_wanted(body: Mapping[str, Any]) -> bool:
    reasoning = body.get("reasoning")
    return isinstance(reasoning, dict) and reasoning.get("summary") not in (None, "none")


def _check_input(state: EmulatorState, request: web.Request, body: Mapping[str, Any]) -> None:
    items = body.get("input")
    if not isinstance(items, list):
        return
    calls: dict[str, int] = {}
    answered: set[str] = set()
    stateless = body.get("store") is False
    for index, item in enumerate(items):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "function_call":
            calls[str(item.get("call_id"))] = index
        elif kind == "function_call_output" and item.get("call_id") in calls:
            answered.add(str(item.get("call_id")))
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            message = f"No tool call found for function call output with call_id {call_id}."
            _refuse(state, request, index, message, ApiError(400, message, param="input"))
        elif kind == "reasoning":
            _check_reasoning(state, request, index, item, stateless=stateless)
    for call_id, index in calls.items():
        if call_id not in answered:
            message = f"No tool output found for function call {call_id}."
            _refuse(state, request, index, message, ApiError(400, message, param="input"))


def _check_reasoning(
    state: EmulatorState,
    request: web.Request,
    index: int,
    item: Mapping[str, Any],
    *,
    stateless: bool,
) -> None:
    item_id = item.get("id")
    encrypted = item.get("encrypted_content")
    if encrypted is None:
        if stateless:
            message = (
                f"Item with id '{item_id}' not found. Items are not persisted when `store` is "
                "set to false. Try again with `store` set to true, or remove this item from "
                "your input."
            )
            _refuse(state, request, index, message, ApiError(404, message, param="input"))
        return
    payload = read_reasoning_token(str(encrypted))
    if payload is None or payload.get("id") != item_id:
        message = (  # Wei-Shaw/sub2api#3138
            f"The encrypted content for item {item_id} could not be verified. Reason: "
            "Encrypted content could not be decrypted or parsed."
        )
        error = ApiError(400, message, param="input", code="invalid_encrypted_content")
        _refuse(state, request, index, message, error)


def _refuse(
    state: EmulatorState, request: web.Request, index: int, message: str, error: ApiError
) -> None:
    issue = SchemaIssue(("input", index), message, "semantic")
    raise reject(state, request, REQUEST_SCHEMA, issue, error)


def input_tokens(body: Mapping[str, Any]) -> int:
    """The estimated input tokens of a Responses request (instructions, input items, tools)."""
    total = tokens.TOKENS_PER_REQUEST + tokens.text_tokens(str(body.get("instructions") or ""))
    items = body.get("input")
    if isinstance(items, str):
        return total + tokens.TOKENS_PER_MESSAGE + tokens.text_tokens(items)
    for item in items if isinstance(items, list) else ():
        if isinstance(item, dict):
            total += _item_tokens(item)
    if body.get("tools"):
        total += tokens.text_tokens(json.dumps(body["tools"], separators=(",", ":")))
    return total


def _item_tokens(item: Mapping[str, Any]) -> int:
    kind = item.get("type", "message")
    if kind == "function_call":
        return tokens.text_tokens(f"{item.get('name', '')}{item.get('arguments', '')}")
    if kind == "function_call_output":
        return tokens.text_tokens(str(item.get("output") or ""))
    if kind == "reasoning":
        return 0
    content = item.get("content")
    images = (
        sum(1 for part in content if isinstance(part, dict) and part.get("type") == "input_image")
        if isinstance(content, list)
        else 0
    )
    return (
        tokens.TOKENS_PER_MESSAGE
        + tokens.text_tokens(input_text(content))
        + images * tokens.TOKENS_PER_IMAGE
    )
