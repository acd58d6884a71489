"""The exact result the model gets back for each kind of tool-call outcome (docs/mutation.md).

test_dispatch.py checks behaviour with fragments of the messages; these pin every message whole,
the budget boundaries, the rendering of results and the bookkeeping of started and finished calls.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from tools import (
    Dispatcher,
    InMemoryLedger,
    ToolCall,
    ToolContext,
    ToolEvent,
    ToolFailed,
    ToolOutcome,
    ToolRegistry,
    ToolRetry,
    ToolStarted,
    tool,
)

ContextFactory = Callable[..., ToolContext]


@tool(progress="Echoing {text}...")
async def echo(ctx: ToolContext, text: str, count: int = 1) -> str:
    """Echo text."""
    return text * count


@tool
async def picky(ctx: ToolContext, n: int) -> str:
    """Needs a positive number."""
    if n <= 0:
        raise ToolRetry("n must be positive.")
    return str(n)


@tool
async def fail(ctx: ToolContext) -> str:
    """Fail terminally."""
    raise ToolFailed("The service is down.")


@tool
async def boom(ctx: ToolContext) -> str:
    """Crash."""
    raise RuntimeError("secret")


@tool(timeout=0.05)
async def hang(ctx: ToolContext) -> str:
    """Never finishes."""
    await asyncio.Event().wait()
    return "never"


@tool(side_effects=True, timeout=0.05)
async def send_slowly(ctx: ToolContext, text: str) -> str:
    """A side effect that never finishes."""
    await asyncio.Event().wait()
    return "never"


@tool(side_effects=True)
async def send(ctx: ToolContext, text: str) -> str:
    """Send (a side effect)."""
    return f"sent {text}"


@tool
async def circular(ctx: ToolContext) -> Any:
    """Returns a value JSON cannot encode."""
    loop: list[Any] = [1]
    loop.append(loop)
    return loop


@tool
async def objects(ctx: ToolContext) -> Any:
    """Returns a value JSON encodes with str()."""
    return {"when": complex(1, 2), "text": "é"}


@tool(guild_only=True)
async def guild_thing(ctx: ToolContext) -> str:
    """Guild only."""
    return "guild"


@tool(max_retries=1)
async def once_more(ctx: ToolContext, n: int) -> str:
    """One retry allowed."""
    return str(n)


ALL = [echo, picky, fail, boom, hang, send_slowly, send, circular, objects, guild_thing, once_more]


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry(ALL)


@pytest.fixture
def ctx(make_ctx: ContextFactory) -> ToolContext:
    return make_ctx()


def dispatcher(registry: ToolRegistry, ctx: ToolContext, **options: Any) -> Dispatcher:
    allowed = options.pop("allowed", [t.name for t in registry.all()])
    return Dispatcher(registry, ctx, allowed, **options)


def call(call_id: str, name: str, **arguments: Any) -> ToolCall:
    return ToolCall(call_id, name, json.dumps(arguments))


async def one(d: Dispatcher, tool_call: ToolCall) -> tuple[str, str]:
    (outcome,) = await d.run([tool_call])
    return outcome.status, outcome.content


def stop(name: str, last: str | None = None) -> str:
    detail = f" Last problem: {last}" if last else ""
    return (
        f"Stop calling '{name}': it failed too many times in this turn. Do not call it again "
        f"now; tell the user what could not be done.{detail}"
    )


async def test_ok_and_rendered_results(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx, max_output_chars=10)

    assert await one(d, call("a", "echo", text="hi", count=2)) == ("ok", "hihi")
    assert await one(d, call("b", "echo", text="x", count=10)) == ("ok", "x" * 10)
    assert await one(d, call("c", "echo", text="x", count=11)) == (
        "ok",
        "x" * 10 + "\n[output truncated: 1 more characters]",
    )
    assert await one(dispatcher(registry, ctx), call("d", "circular")) == ("ok", "[1, [...]]")
    assert await one(dispatcher(registry, ctx), call("e", "objects")) == (
        "ok",
        '{"when": "(1+2j)", "text": "é"}',
    )


async def test_invalid_json_is_answered_exactly(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx)

    assert await one(d, ToolCall("a", "echo", '{"text": "hi"')) == (
        "invalid_json",
        "The arguments for 'echo' are not usable: invalid JSON: Expecting ',' delimiter at "
        "position 13. Send one JSON object matching the tool's parameters and call 'echo' again.",
    )
    assert (await one(d, ToolCall("b", "echo", "[1]")))[1] == (
        "The arguments for 'echo' are not usable: expected a JSON object, got list. Send one JSON "
        "object matching the tool's parameters and call 'echo' again."
    )


async def test_invalid_arguments_list_each_error_exactly(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    long_text = "y" * 100
    status, content = await one(
        dispatcher(registry, ctx), call("a", "echo", count=long_text, extra=5)
    )
    errors = [
        {"loc": "text", "msg": "Field required"},
        {
            "loc": "count",
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": json.dumps(long_text)[:77] + "...",
        },
        {"loc": "extra", "msg": "Extra inputs are not permitted", "input": 5},
    ]

    assert status == "invalid_arguments"
    assert content == (
        f"The arguments for 'echo' are invalid: {json.dumps(errors, ensure_ascii=False)}. "
        "Fix these errors and call 'echo' again."
    )


async def test_an_input_of_80_characters_is_shown_whole(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    eighty = "z" * 78  # 80 characters as JSON, with its quotes
    _, content = await one(dispatcher(registry, ctx), call("a", "echo", text="t", count=eighty))

    errors = json.loads(
        content.removeprefix("The arguments for 'echo' are invalid: ").split(". Fix")[0]
    )
    assert errors[0]["input"] == eighty


async def test_unknown_tools_are_answered_exactly(registry: ToolRegistry, ctx: ToolContext) -> None:
    some = dispatcher(registry, ctx, allowed=["echo", "picky"])
    none = dispatcher(registry, ctx, allowed=[])
    long_name = "n" * 100

    assert await one(some, call("a", "weather")) == (
        "unknown_tool",
        "There is no tool named 'weather'. Available tools: echo, picky. "
        "Call one of these or answer without a tool.",
    )
    assert await one(none, call("b", long_name)) == (
        "unknown_tool",
        f"There is no tool named '{'n' * 64}' and no tools are available here; "
        "answer without tools.",
    )


async def test_refusals_say_why_exactly(
    registry: ToolRegistry, make_ctx: ContextFactory, ctx: ToolContext
) -> None:
    in_dm = dispatcher(registry, make_ctx(guild_id=None, member_permissions=None))
    not_offered = dispatcher(registry, ctx, allowed=["echo"])

    assert await one(in_dm, call("a", "guild_thing")) == (
        "denied",
        "The tool 'guild_thing' is not available here: it only works in a server, not in "
        "direct messages. It was not run. Do not call it again; tell the user if it matters.",
    )
    assert (await one(not_offered, call("b", "picky", n=1)))[1] == (
        "The tool 'picky' is not available here: it is not enabled here. It was not run. "
        "Do not call it again; tell the user if it matters."
    )


async def test_failures_are_answered_exactly(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx)

    assert await one(d, call("a", "fail")) == ("error", "'fail' failed: The service is down.")
    assert await one(d, call("b", "picky", n=0)) == (
        "invalid_arguments",
        "n must be positive. Fix the call and try 'picky' again.",
    )
    status, content = await one(d, call("c", "boom"))
    assert status == "error"
    assert re.fullmatch(
        r"The tool 'boom' failed with an internal error \(reference [0-9a-f]{8}\)\. "
        r"Tell the user it did not work; do not call it again for this request\.",
        content,
    )


async def test_timeouts_are_answered_exactly(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx)

    assert await one(d, call("a", "hang")) == (
        "timeout",
        "The tool 'hang' did not finish within 0.05 s and was stopped. Tell the user it timed "
        "out; try again only if the request needs it.",
    )
    assert await one(d, call("b", "send_slowly", text="x")) == (
        "timeout",
        "The tool 'send_slowly' did not finish within 0.05 s and was stopped. Its outcome is "
        "unknown; do not repeat it. Tell the user.",
    )


async def test_the_retry_budget_boundaries(registry: ToolRegistry, ctx: ToolContext) -> None:
    zero = dispatcher(registry, ctx, retry_budget=0)
    one_retry = dispatcher(registry, ctx, retry_budget=5)
    retry_problem = "n must be positive. Fix the call and try 'picky' again."

    assert await one(zero, call("a", "picky", n=0)) == (
        "budget_exhausted",
        stop("picky", retry_problem),
    )
    assert await one(zero, call("b", "picky", n=1)) == ("budget_exhausted", stop("picky"))
    # once_more allows exactly one bad call, whatever the dispatcher's budget.
    assert (await one(one_retry, call("c", "once_more", n="x")))[0] == "invalid_arguments"
    assert (await one(one_retry, call("d", "once_more", n="x")))[0] == "budget_exhausted"
    assert (await one(one_retry, call("e", "picky", n=0)))[0] == "invalid_arguments"


async def test_concurrency_must_be_at_least_one(registry: ToolRegistry, ctx: ToolContext) -> None:
    with pytest.raises(ValueError, match=r"^Dispatcher concurrency must be at least 1\.$"):
        dispatcher(registry, ctx, concurrency=0)
    assert await one(dispatcher(registry, ctx, concurrency=1), call("a", "echo", text="k")) == (
        "ok",
        "k",
    )


async def test_duplicates_and_immediate_outcomes(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx)

    first, again, unknown = await d.run(
        [call("a", "echo", text="1"), call("a", "echo", text="2"), call("u", "nope")]
    )

    assert (first.status, first.content) == ("ok", "1")
    assert (again.call_id, again.name, again.status, again.content) == (
        "a",
        "echo",
        "skipped_duplicate",
        "Duplicate tool call id in this batch; ignored.",
    )
    for immediate in (again, unknown):
        assert immediate.duration_s == 0.0 and immediate.started_at == immediate.finished_at
        assert immediate.artifacts == []
    assert first.duration_s == pytest.approx(first.finished_at - first.started_at)
    assert d.started_call_ids == {"a"} and d.finished_call_ids == {"a"}


async def test_a_replayed_side_effect_returns_the_recorded_result(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    ledger = InMemoryLedger()
    first = await one(dispatcher(registry, ctx, ledger=ledger), call("a", "send", text="hi"))
    replay = dispatcher(registry, ctx, ledger=ledger)

    second = await one(replay, call("b", "send", text="hi"))

    assert first == ("ok", "sent hi")
    assert second == ("skipped_duplicate", "sent hi")
    assert replay.started_call_ids == set()


async def test_an_unsettled_side_effect_is_never_repeated(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    ledger = InMemoryLedger()
    await one(dispatcher(registry, ctx, ledger=ledger), call("a", "send_slowly", text="x"))

    assert await one(
        dispatcher(registry, ctx, ledger=ledger), call("b", "send_slowly", text="x")
    ) == (
        "skipped_duplicate",
        "This action ('send_slowly' with these arguments) was already attempted and its outcome "
        "is unknown; do not repeat it. Tell the user to check whether it happened.",
    )


async def test_a_failing_ledger_blocks_the_side_effect_exactly(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    class BrokenLedger(InMemoryLedger):
        async def claim(self, key: str, tool: str, arguments: str) -> None:
            raise OSError("disk full")

    assert await one(
        dispatcher(registry, ctx, ledger=BrokenLedger()), call("a", "send", text="x")
    ) == (
        "error",
        "'send' was not run because its safety record could not be written. "
        "Tell the user to try again later.",
    )


async def test_a_failing_ledger_completion_still_answers(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    class Forgetful(InMemoryLedger):
        async def complete(self, key: str, result: str, status: str) -> None:
            raise OSError("disk full")

    assert await one(
        dispatcher(registry, ctx, ledger=Forgetful()), call("a", "send", text="x")
    ) == (
        "ok",
        "sent x",
    )


async def test_started_events_carry_the_progress_text(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    events: list[ToolEvent] = []
    d = dispatcher(registry, ctx, on_event=events.append)

    await d.run([call("a", "echo", text="hi")])

    started = [event for event in events if isinstance(event, ToolStarted)]
    assert [(event.call.id, event.progress_text) for event in started] == [("a", "Echoing hi...")]
    assert [type(event).__name__ for event in events] == ["ToolStarted", "ToolFinished"]


async def test_outcomes_are_tool_outcomes_in_call_order(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    outcomes = await dispatcher(registry, ctx).run(
        [call("s", "send", text="1"), call("e1", "echo", text="2"), call("e2", "echo", text="3")]
    )

    assert all(isinstance(outcome, ToolOutcome) for outcome in outcomes)
    assert [(o.call_id, o.content) for o in outcomes] == [("s", "sent 1"), ("e1", "2"), ("e2", "3")]
