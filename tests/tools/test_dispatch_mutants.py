"""The exact result the model gets back for each kind of tool-call outcome (docs/mutation.md).

test_dispatch.py checks behaviour with fragments of the messages; these pin every message whole,
the budget boundaries, the rendering of results and the bookkeeping of started and finished calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, model_validator

from tools import ToolContext, ToolFailed, ToolRetry, tool
from tools.calls import ToolCall, ToolEvent, ToolOutcome, ToolStarted
from tools.definition import Tool
from tools.deps import Dep, ToolDeps
from tools.dispatch import Dispatcher
from tools.ledger import InMemoryLedger
from tools.registry import ToolRegistry

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


# -- side effects: which outcomes are recorded as settled ----------------------------------


@tool(side_effects=True)
async def send_fail(ctx: ToolContext, text: str) -> str:
    """A side effect that fails cleanly."""
    raise ToolFailed("refused by the server.")


@tool(side_effects=True)
async def send_retry(ctx: ToolContext, text: str) -> str:
    """A side effect that asks for a better call."""
    raise ToolRetry("text must be shorter.")


@tool(side_effects=True)
async def send_boom(ctx: ToolContext, text: str) -> str:
    """A side effect that crashes."""
    raise RuntimeError("crash")


@tool(side_effects=True)
async def send_inner_timeout(ctx: ToolContext, text: str) -> str:
    """A side effect whose own upstream call timed out."""
    raise TimeoutError("upstream")


@tool(family="weather")
async def family_of(ctx: ToolContext) -> str:
    """Says which settings family the call got."""
    return str(ctx.config.get("name", "none"))


@tool
async def numbers(ctx: ToolContext, values: list[int]) -> str:
    """Sum numbers."""
    return str(sum(values))


CROWD: Dep[dict[str, Any]] = Dep("crowd")


@tool
async def crowd(ctx: ToolContext) -> str:
    """Wait (briefly) for five calls to be running at once; report the most seen."""
    state = ctx.deps.need(CROWD)
    state["now"] += 1
    state["most"] = max(state["most"], state["now"])
    if state["most"] >= 5:
        state["five"].set()
    # Bounded wait for a fifth call that the concurrency limit must keep out.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(state["five"].wait(), 0.3)
    state["now"] -= 1
    return str(state["most"])


SIDE = [
    send,
    send_fail,
    send_retry,
    send_boom,
    send_inner_timeout,
    family_of,
    numbers,
    crowd,
    once_more,
]
UNKNOWN_OUTCOME = (
    "This action ('{}' with these arguments) was already attempted and its outcome is unknown; "
    "do not repeat it. Tell the user to check whether it happened."
)


@pytest.mark.parametrize(
    ("name", "first", "replayed"),
    [
        ("send_fail", "'send_fail' failed: refused by the server.", None),
        ("send_retry", "text must be shorter. Fix the call and try 'send_retry' again.", None),
        ("send_boom", None, UNKNOWN_OUTCOME.format("send_boom")),
        ("send_inner_timeout", None, UNKNOWN_OUTCOME.format("send_inner_timeout")),
    ],
)
async def test_known_outcomes_are_recorded_and_unknown_ones_are_not_repeated(
    ctx: ToolContext, name: str, first: str | None, replayed: str | None
) -> None:
    registry = ToolRegistry(SIDE)
    ledger = InMemoryLedger()
    _, content = await one(dispatcher(registry, ctx, ledger=ledger), call("a", name, text="x"))
    events: list[ToolEvent] = []
    again = dispatcher(registry, ctx, ledger=ledger, on_event=events.append)

    status, replay = await one(again, call("b", name, text="x"))

    if first is not None:
        assert content == first
    assert status == "skipped_duplicate"
    assert replay == (replayed or content)
    (record,) = ledger.records()
    assert (record.tool, record.arguments) == (name, '{"text":"x"}')
    assert [type(event).__name__ for event in events] == ["ToolFinished"]
    assert events[0].outcome.content == replay  # type: ignore[union-attr]


async def test_a_tool_retry_counts_against_that_tool(ctx: ToolContext) -> None:
    registry = ToolRegistry([picky, once_more])
    d = dispatcher(registry, ctx, retry_budget=1)

    assert (await one(d, call("a", "picky", n=0)))[0] == "invalid_arguments"
    assert (await one(d, ToolCall("b", "picky", "{")))[0] == "budget_exhausted"


@tool(max_retries=0)
async def picky_once(ctx: ToolContext, n: int) -> str:
    """Needs a positive number, and gives no second chance."""
    raise ToolRetry("n must be positive.")


async def test_a_tool_s_own_retry_limit_applies_to_tool_retry(ctx: ToolContext) -> None:
    d = dispatcher(ToolRegistry([picky_once]), ctx, retry_budget=5)

    assert await one(d, call("a", "picky_once", n=0)) == (
        "budget_exhausted",
        stop("picky_once", "n must be positive. Fix the call and try 'picky_once' again."),
    )


async def test_a_tool_s_own_retry_limit_applies_to_invalid_json(ctx: ToolContext) -> None:
    d = dispatcher(ToolRegistry(SIDE), ctx, retry_budget=5)

    assert (await one(d, ToolCall("a", "once_more", "{")))[0] == "invalid_json"
    assert (await one(d, ToolCall("b", "once_more", "{")))[0] == "budget_exhausted"


async def test_the_default_retry_budget_is_two(ctx: ToolContext) -> None:
    d = Dispatcher(ToolRegistry([picky]), ctx, ["picky"])

    statuses = [(await one(d, call(f"c{i}", "picky", n=0)))[0] for i in range(3)]

    assert statuses == ["invalid_arguments", "invalid_arguments", "budget_exhausted"]


async def test_the_default_concurrency_is_four(make_ctx: ContextFactory) -> None:
    state: dict[str, Any] = {"now": 0, "most": 0, "five": asyncio.Event()}
    ctx = make_ctx(deps=ToolDeps().with_extra(CROWD, state))
    d = Dispatcher(ToolRegistry([crowd]), ctx, ["crowd"])

    await d.run([call(f"c{i}", "crowd") for i in range(5)])

    assert state["most"] == 4


async def test_each_call_gets_its_family_s_settings(make_ctx: ContextFactory) -> None:
    ctx = make_ctx(tool_settings={"weather": {"name": "weather settings"}})

    assert await one(dispatcher(ToolRegistry(SIDE), ctx), call("a", "family_of")) == (
        "ok",
        "weather settings",
    )


async def test_error_locations_and_non_ascii_inputs_are_shown_as_is(ctx: ToolContext) -> None:
    d = dispatcher(ToolRegistry([numbers, echo]), ctx)

    _, nested = await one(d, call("a", "numbers", values=[1, "é"]))
    _, long = await one(d, call("b", "echo", text="t", count="é" * 100))

    assert '"loc": "values.1"' in nested and '"input": "é"' in nested
    assert json.dumps("é" * 100, ensure_ascii=False)[:77] + "..." in long


async def test_immediate_outcomes_carry_real_times(ctx: ToolContext) -> None:
    (outcome,) = await dispatcher(ToolRegistry([echo]), ctx).run([call("a", "nope")])

    assert isinstance(outcome.started_at, float) and outcome.started_at > 0


async def test_the_tool_log_names_the_tool_the_call_and_the_outcome(
    ctx: ToolContext, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenLedger(InMemoryLedger):
        async def claim(self, key: str, tool: str, arguments: str) -> None:
            raise OSError("disk full")

    class Forgetful(InMemoryLedger):
        async def complete(self, key: str, result: str, status: str) -> None:
            raise OSError("disk full")

    def bad_callback(event: ToolEvent) -> None:
        raise RuntimeError("callback")

    caplog.set_level(logging.INFO, logger="toolcord.tools")
    registry = ToolRegistry([echo, boom, send])
    await one(dispatcher(registry, ctx, on_event=bad_callback), call("a", "echo", text="x"))
    _, crashed = await one(dispatcher(registry, ctx), call("b", "boom"))
    await one(dispatcher(registry, ctx, ledger=BrokenLedger()), call("c", "send", text="x"))
    await one(dispatcher(registry, ctx, ledger=Forgetful()), call("d", "send", text="x"))

    reference = crashed.split("reference ")[1][:8]
    messages = [r.getMessage() for r in caplog.records if r.name == "toolcord.tools"]
    assert messages[0] == "tool event callback failed on ToolStarted"
    timing = re.fullmatch(r"tool echo call a: ok in (\d+\.\d{3})s", messages[1])
    assert timing is not None and float(timing.group(1)) < 10
    assert f"tool boom call b raised (reference {reference})" in messages
    assert "ledger claim failed for tool send call c" in messages
    assert "ledger completion failed for call d" in messages
    assert all(not m.startswith("tool echo call a: ok in -") for m in messages)


class Either(BaseModel):
    """Give a or b."""

    a: int | None = None
    b: int | None = None

    @model_validator(mode="after")
    def one_of(self) -> Either:
        if (self.a is None) == (self.b is None):
            raise ValueError("give exactly one of a and b")
        return self


async def _either(params: Either) -> str:
    """Pick one."""
    return "ok"


async def test_an_error_about_the_whole_arguments_is_located_at_the_arguments(
    ctx: ToolContext,
) -> None:
    pick = Tool.from_model(Either, _either)
    d = dispatcher(ToolRegistry([pick]), ctx)

    _, content = await one(d, call("a", pick.name, a=1, b=2))

    errors = json.loads(content.split("are invalid: ")[1].split(". Fix")[0])
    assert [error["loc"] for error in errors] == ["(arguments)"]
