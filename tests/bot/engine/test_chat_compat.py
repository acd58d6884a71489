"""Refused parameters: which 400s name one, the body without it, and the per-bot memory."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from bot.engine.chat_compat import (
    RefusedParams,
    drop_refused_params,
    refused_param,
    send_leaving_out_refused,
    without_param,
)

TOOL = {"type": "function", "function": {"name": "weather", "parameters": {}, "strict": True}}
BODY: dict[str, Any] = {
    "model": "m",
    "messages": [],
    "stream": True,
    "stream_options": {"include_usage": True},
    "tools": [TOOL],
    "tool_choice": "auto",
    "max_completion_tokens": 500,
}


@dataclass
class _Error(Exception):
    """Shaped like the SDK's APIStatusError: ``status_code`` and the ``error`` object."""

    status_code: int
    body: Any


def _groq(message: str) -> _Error:
    return _Error(400, {"message": message, "type": "invalid_request_error"})


@pytest.mark.parametrize(
    ("body", "error", "param"),
    [
        (
            BODY,
            _groq("property 'stream_options' is unsupported, did you mean 'stream'?"),
            "stream_options",
        ),
        (
            BODY,
            _groq("property 'max_completion_tokens' is unsupported, did you mean 'max_tokens'?"),
            "max_completion_tokens",
        ),
        (
            BODY,
            _Error(
                400,
                {
                    "message": "Invalid value: 'true'. The value 'true' isn't supported yet.",
                    "param": "tools[0].function.strict",
                },
            ),
            "strict",
        ),
        (BODY, _groq('Validation Error: "strict" - Extra inputs are not permitted'), "strict"),
        (
            {**BODY, "parallel_tool_calls": True},
            _Error(400, {"message": "Unrecognized request argument supplied: parallel_tool_calls"}),
            "parallel_tool_calls",
        ),
        (
            {**BODY, "parallel_tool_calls": True},
            _Error(
                400,
                {
                    "message": "Unsupported parameter: 'parallel_tool_calls' is not supported "
                    "with this model.",
                    "param": "parallel_tool_calls",
                    "code": "unsupported_parameter",
                },
            ),
            "parallel_tool_calls",
        ),
        (
            {"model": "m", "max_tokens": 5},
            _Error(
                400,
                {
                    "message": "Unsupported parameter: 'max_tokens' is not supported with this "
                    "model. Use 'max_completion_tokens' instead.",
                    "param": "max_tokens",
                },
            ),
            "max_tokens",
        ),
    ],
    ids=[
        "groq-stream-options",
        "groq-max-completion-tokens",
        "strict-by-param",
        "strict-by-message",
        "azure-parallel",
        "openai-parallel",
        "openai-max-tokens",
    ],
)
def test_a_400_saying_a_sent_parameter_is_unsupported_names_it(
    body: dict[str, Any], error: _Error, param: str
) -> None:
    assert refused_param(body, error) == param


@pytest.mark.parametrize(
    "error",
    [
        _Error(
            400,
            {
                "message": "max_completion_tokens must be less than or equal to 40960",
                "param": "max_completion_tokens",
            },
        ),
        _groq("property 'logit_bias' is unsupported"),
        _Error(429, {"message": "property 'stream_options' is unsupported"}),
        _Error(400, None),
        ValueError("stream_options unsupported"),
        _Error(
            400,
            {
                "message": "Function tools with reasoning_effort are not supported for "
                "gpt-5.6-terra in /v1/chat/completions. To use function tools, use "
                "/v1/responses or set reasoning_effort to 'none'.",
                "type": "invalid_request_error",
                "param": "reasoning_effort",
                "code": None,
            },
        ),
    ],
    ids=[
        "a-value-error",
        "a-parameter-not-sent",
        "not-a-400",
        "no-body",
        "not-an-http-error",
        "openai-tools-with-reasoning",
    ],
)
def test_other_errors_name_no_refused_parameter(error: Exception) -> None:
    assert refused_param(BODY, error) is None
    assert drop_refused_params(BODY, error) is None


def test_without_param_gives_exact_bodies_and_leaves_the_original_alone() -> None:
    assert "stream_options" not in without_param(BODY, "stream_options")
    capped = without_param(BODY, "max_completion_tokens")
    assert (capped["max_tokens"], "max_completion_tokens" in capped) == (500, False)
    loose = without_param(BODY, "strict")
    assert loose["tools"] == [
        {"type": "function", "function": {"name": "weather", "parameters": {}}}
    ]
    assert BODY["tools"][0]["function"]["strict"] is True
    assert set(without_param({**BODY, "parallel_tool_calls": False}, "parallel_tool_calls")) == set(
        BODY
    )


def test_the_memory_applies_what_was_refused_and_logs_each_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="toolcord.engine")
    memory = RefusedParams()
    assert memory.apply(BODY) is BODY  # nothing refused: the very same dict, no copy
    error = _groq("property 'stream_options' is unsupported, did you mean 'stream'?")
    memory.remember("stream_options", error)
    memory.remember("stream_options", error)
    assert memory.refused == ("stream_options",)
    assert "stream_options" not in memory.apply(BODY)
    assert [r.getMessage() for r in caplog.records] == [
        "the model server refused the 'stream_options' parameter (property 'stream_options' is "
        "unsupported, did you mean 'stream'?); toolcord leaves it out of every further request "
        "to this server: token usage is estimated locally instead of reported by the server"
    ]


async def test_send_retries_without_each_refused_parameter_then_remembers_per_memory() -> None:
    refusals = {
        "stream_options": _groq("property 'stream_options' is unsupported"),
        "max_completion_tokens": _groq("property 'max_completion_tokens' is unsupported"),
    }
    sent: list[dict[str, Any]] = []

    async def send(body: dict[str, Any]) -> str:
        sent.append(body)
        for param, error in refusals.items():
            if param in body:
                raise error
        return "ok"

    memory, other = RefusedParams(), RefusedParams()
    assert await send_leaving_out_refused(memory, dict(BODY), send) == "ok"
    assert [sorted(set(BODY) ^ set(body)) for body in sent] == [
        [],
        ["stream_options"],
        ["max_completion_tokens", "max_tokens", "stream_options"],
    ]
    sent.clear()
    assert await send_leaving_out_refused(memory, dict(BODY), send) == "ok"
    assert len(sent) == 1 and sent[0]["max_tokens"] == 500
    assert memory.refused == ("stream_options", "max_completion_tokens")
    assert other.refused == ()


async def test_send_raises_an_error_that_refuses_nothing() -> None:
    async def send(body: dict[str, Any]) -> str:
        raise _Error(400, {"message": "messages must not be empty"})

    with pytest.raises(_Error):
        await send_leaving_out_refused(RefusedParams(), dict(BODY), send)
