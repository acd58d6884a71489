"""Dispatcher: validation feedback, budgets, timeouts, concurrency, ledger and events."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel

from tools import Permissions, ToolContext, ToolFailed, ToolRetry, tool
from tools.calls import ToolCall, ToolEvent, ToolFinished, ToolOutcome, ToolProgress, ToolStarted
from tools.deps import Dep, ToolDeps
from tools.dispatch import Dispatcher
from tools.ledger import InMemoryLedger, ledger_key
from tools.registry import ToolRegistry

ContextFactory = Callable[..., ToolContext]
WAIT = 10.0


@dataclass
class Probe:
    """Shared by the test tools (injected as the 'probe' service) to observe runs."""

    runs: Counter[str] = field(default_factory=Counter)
    in_flight: set[str] = field(default_factory=set)
    max_in_flight: int = 0
    alone_violations: list[set[str]] = field(default_factory=list)
    events: dict[str, asyncio.Event] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)

    def event(self, name: str) -> asyncio.Event:
        return self.events.setdefault(name, asyncio.Event())

    def enter(self, ctx: ToolContext) -> None:
        self.runs[ctx.tool_name] += 1
        self.in_flight.add(ctx.call_id)
        self.max_in_flight = max(self.max_in_flight, len(self.in_flight))
        self.event(f"started:{ctx.call_id}").set()

    def leave(self, ctx: ToolContext) -> None:
        self.in_flight.discard(ctx.call_id)
        self.event(f"finished:{ctx.call_id}").set()


PROBE: Dep[Probe] = Dep("probe")


def probe_of(ctx: ToolContext) -> Probe:
    return ctx.deps.need(PROBE)


@tool(progress="Echoing {text}...")
async def echo(ctx: ToolContext, text: str, wait_for: str | None = None) -> str:
    """Echo text, optionally after another call finished."""
    probe = probe_of(ctx)
    probe.enter(ctx)
    try:
        if wait_for:
            await asyncio.wait_for(probe.event(f"finished:{wait_for}").wait(), WAIT)
        return f"echo:{text}"
    finally:
        probe.leave(ctx)


@tool
async def rendezvous(ctx: ToolContext, peer: str) -> str:
    """Finish only once the peer call is running at the same time."""
    probe = probe_of(ctx)
    probe.enter(ctx)
    try:
        await asyncio.wait_for(probe.event(f"started:{peer}").wait(), WAIT)
        return "met"
    finally:
        probe.leave(ctx)


@tool
async def gate(ctx: ToolContext, key: str) -> str:
    """Wait until the test opens the named gate."""
    probe = probe_of(ctx)
    probe.enter(ctx)
    try:
        await asyncio.wait_for(probe.event(f"gate:{key}").wait(), WAIT)
        return "opened"
    finally:
        probe.leave(ctx)


@tool(side_effects=True)
async def send(ctx: ToolContext, text: str) -> str:
    """Send a message (a side effect)."""
    probe = probe_of(ctx)
    probe.enter(ctx)
    if probe.in_flight != {ctx.call_id}:
        probe.alone_violations.append(set(probe.in_flight))
    probe.leave(ctx)
    return f"sent {text} (#{probe.runs['send']})"


@tool(side_effects=True, timeout=0.2)
async def send_slowly(ctx: ToolContext, text: str) -> str:
    """A side effect whose outcome is unknown because it times out."""
    probe_of(ctx).enter(ctx)
    await asyncio.Event().wait()
    return "never"


@tool
async def boom(ctx: ToolContext) -> str:
    """Crash with a secret in the message."""
    raise RuntimeError("secret token sk-123 in /home/bot/.env")


@tool
async def fail(ctx: ToolContext) -> str:
    """Fail terminally."""
    raise ToolFailed("The service is down.")


@tool
async def picky(ctx: ToolContext, n: int) -> str:
    """Needs a positive number."""
    if n <= 0:
        raise ToolRetry("n must be positive.")
    return str(n)


@tool(max_retries=0)
async def strict_once(ctx: ToolContext, n: int) -> str:
    """No second chances."""
    return str(n)


@tool(timeout=0.2)
async def hang(ctx: ToolContext) -> str:
    """Never finishes."""
    probe = probe_of(ctx)
    probe.enter(ctx)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        probe.cancelled.add(ctx.call_id)
        raise
    return "never"


@tool(timeout=30)
async def hang_long(ctx: ToolContext) -> str:
    """Never finishes, and has a long timeout."""
    probe = probe_of(ctx)
    probe.enter(ctx)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        probe.cancelled.add(ctx.call_id)
        raise
    return "never"


@tool
async def inner_timeout(ctx: ToolContext) -> str:
    """Raises TimeoutError itself (not the dispatcher's timeout)."""
    raise TimeoutError("upstream")


@tool
async def draw(ctx: ToolContext, fail_after: bool = False) -> str:
    """Draw a picture."""
    ctx.attach("pic.png", b"png-bytes", "image/png", description="a picture")
    if fail_after:
        raise ToolFailed("could not finish the picture")
    return "drawn"


@tool(progress="Working on {missing}")
async def chatty(ctx: ToolContext) -> str:
    """Reports progress."""
    await ctx.report_progress("step 1")
    await ctx.report_progress("step 2")
    return "done"


class Reply(BaseModel):
    value: int


@tool
async def shaped(ctx: ToolContext, kind: str) -> Any:
    """Returns non-string values."""
    return {"dict": {"a": 1}, "none": None, "model": Reply(value=2), "long": "x" * 100}[kind]


@tool(guild_only=True)
async def guild_thing(ctx: ToolContext) -> str:
    """Guild only."""
    probe_of(ctx).enter(ctx)
    return "guild"


@tool(required_permissions=("ban_members",))
async def ban(ctx: ToolContext, user: str) -> str:
    """Ban someone."""
    probe_of(ctx).enter(ctx)
    return "banned"


ALL_TOOLS = [
    echo,
    rendezvous,
    gate,
    send,
    send_slowly,
    boom,
    fail,
    picky,
    strict_once,
    hang,
    hang_long,
    inner_timeout,
    draw,
    chatty,
    shaped,
    guild_thing,
    ban,
]


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def registry() -> ToolRegistry:
    return ToolRegistry(ALL_TOOLS)


@pytest.fixture
def ctx(make_ctx: ContextFactory, probe: Probe) -> ToolContext:
    return make_ctx(deps=ToolDeps().with_extra(PROBE, probe))


def dispatcher(
    registry: ToolRegistry, ctx: ToolContext, allowed: Any = None, **options: Any
) -> Dispatcher:
    names = [t.name for t in registry.all()] if allowed is None else allowed
    return Dispatcher(registry, ctx, names, **options)


def call(call_id: str, name: str, **arguments: Any) -> ToolCall:
    return ToolCall(call_id, name, json.dumps(arguments))


async def run_one(d: Dispatcher, tool_call: ToolCall) -> ToolOutcome:
    (outcome,) = await d.run([tool_call])
    assert outcome.call_id == tool_call.id
    return outcome


# ---------------------------------------------------------------- validation and feedback


async def test_ok_call(registry: ToolRegistry, ctx: ToolContext) -> None:
    outcome = await run_one(dispatcher(registry, ctx), call("c1", "echo", text="hi"))
    assert (outcome.status, outcome.content, outcome.name) == ("ok", "echo:hi", "echo")
    assert outcome.finished_at >= outcome.started_at and outcome.duration_s >= 0
    assert outcome.as_message() == {"role": "tool", "tool_call_id": "c1", "content": "echo:hi"}


async def test_malformed_json_is_fed_back(registry: ToolRegistry, ctx: ToolContext) -> None:
    outcome = await run_one(dispatcher(registry, ctx), ToolCall("c1", "echo", '{"text": "hi"'))
    assert outcome.status == "invalid_json"
    assert "not usable" in outcome.content and "call 'echo' again" in outcome.content


async def test_schema_breaking_arguments_list_pydantic_errors(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    outcome = await run_one(
        dispatcher(registry, ctx), call("c1", "echo", text=5, extra="no", wait_for=None)
    )
    assert outcome.status == "invalid_arguments"
    errors = json.loads(outcome.content.split("are invalid: ")[1].split(". Fix")[0])
    assert {e["loc"] for e in errors} == {"text", "extra"}
    assert "Fix these errors and call 'echo' again" in outcome.content
    assert probe.runs["echo"] == 0


async def test_unknown_tool_lists_available_names(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx, allowed=["echo", "picky"])
    outcome = await run_one(d, call("c1", "weather_forecast"))
    assert outcome.status == "unknown_tool"
    assert "'weather_forecast'" in outcome.content
    assert "Available tools: echo, picky" in outcome.content
    empty = await run_one(dispatcher(registry, ctx, allowed=[]), call("c2", "echo", text="x"))
    assert empty.status == "denied"


async def test_raising_tool_is_sanitized_and_logged(
    registry: ToolRegistry, ctx: ToolContext, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="toolcord.tools")
    outcome = await run_one(dispatcher(registry, ctx), call("c1", "boom"))
    assert outcome.status == "error"
    assert "failed with an internal error" in outcome.content
    assert "sk-123" not in outcome.content and "/home" not in outcome.content
    record = next(r for r in caplog.records if r.name == "toolcord.tools")
    assert record.exc_info is not None and "sk-123" in str(record.exc_info[1])
    reference = outcome.content.split("reference ")[1].split(")")[0]
    assert reference in record.getMessage()


async def test_tool_failed_and_tool_retry(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx)
    failed = await run_one(d, call("c1", "fail"))
    assert failed.status == "error" and "The service is down." in failed.content
    retry = await run_one(d, call("c2", "picky", n=0))
    assert retry.status == "invalid_arguments"
    assert "n must be positive." in retry.content and "try 'picky' again" in retry.content
    assert (await run_one(d, call("c3", "picky", n=3))).content == "3"


async def test_timeout_becomes_a_result(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    outcome = await run_one(dispatcher(registry, ctx), call("c1", "hang"))
    assert outcome.status == "timeout"
    assert "did not finish within 0.2 s" in outcome.content
    assert probe.cancelled == {"c1"}
    assert 0.15 < outcome.duration_s < WAIT


async def test_timeout_error_raised_by_tool_is_not_a_dispatcher_timeout(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    outcome = await run_one(dispatcher(registry, ctx), call("c1", "inner_timeout"))
    assert outcome.status == "error" and "internal error" in outcome.content


@pytest.mark.parametrize(
    ("overrides", "name", "arguments", "reason"),
    [
        ({"guild_id": None, "member_permissions": None}, "guild_thing", {}, "direct messages"),
        ({}, "ban", {"user": "bob"}, "ban_members"),
    ],
)
async def test_unavailable_tools_are_refused_not_run(
    make_ctx: ContextFactory,
    probe: Probe,
    registry: ToolRegistry,
    overrides: dict[str, Any],
    name: str,
    arguments: dict[str, Any],
    reason: str,
) -> None:
    ctx = make_ctx(deps=ToolDeps().with_extra(PROBE, probe), **overrides)
    outcome = await run_one(dispatcher(registry, ctx), call("c1", name, **arguments))
    assert outcome.status == "denied" and reason in outcome.content
    assert "not available here" in outcome.content
    assert probe.runs[name] == 0


async def test_tool_not_offered_this_turn_is_refused(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    outcome = await run_one(
        dispatcher(registry, ctx, allowed=["picky"]), call("c1", "echo", text="x")
    )
    assert outcome.status == "denied" and "not enabled" in outcome.content
    assert probe.runs["echo"] == 0


async def test_permission_granted_runs(
    make_ctx: ContextFactory, probe: Probe, registry: ToolRegistry
) -> None:
    ctx = make_ctx(
        deps=ToolDeps().with_extra(PROBE, probe),
        member_permissions=Permissions.from_names("ban_members"),
    )
    outcome = await run_one(dispatcher(registry, ctx), call("c1", "ban", user="bob"))
    assert outcome.status == "ok" and probe.runs["ban"] == 1


# ---------------------------------------------------------------- retry budget


async def test_retry_budget_is_per_tool_per_turn(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx, retry_budget=2)
    statuses = []
    for index in range(3):
        statuses.append((await run_one(d, call(f"bad{index}", "echo", text=1))).status)
    assert statuses == ["invalid_arguments", "invalid_arguments", "budget_exhausted"]
    after = await run_one(d, call("good", "echo", text="now valid"))
    assert after.status == "budget_exhausted" and "Stop calling 'echo'" in after.content
    assert (await run_one(d, call("other", "picky", n=1))).status == "ok"
    fresh_turn = dispatcher(registry, ctx)
    assert (await run_one(fresh_turn, call("next", "echo", text="ok"))).status == "ok"


async def test_budget_counts_unknown_tools_json_and_tool_retry(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    d = dispatcher(registry, ctx, retry_budget=1)
    outcomes = await d.run(
        [
            call("u1", "nope"),
            call("u2", "nope"),
            ToolCall("j1", "picky", "{"),
            call("r1", "picky", n=-1),
        ]
    )
    assert [o.status for o in outcomes] == [
        "unknown_tool",
        "budget_exhausted",
        "invalid_json",
        "budget_exhausted",
    ]
    assert "Last problem: n must be positive." in outcomes[3].content


async def test_tool_max_retries_overrides_budget(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx, retry_budget=5)
    outcome = await run_one(d, call("c1", "strict_once", n="x"))
    assert outcome.status == "budget_exhausted"


# ---------------------------------------------------------------- ordering and concurrency


async def test_outcomes_follow_call_order_not_finish_order(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    calls = [
        call("first", "echo", text="1", wait_for="second"),
        call("second", "echo", text="2"),
        call("bad", "echo"),
        call("third", "nope"),
    ]
    outcomes = await dispatcher(registry, ctx).run(calls)
    assert [o.call_id for o in outcomes] == ["first", "second", "bad", "third"]
    assert outcomes[1].finished_at <= outcomes[0].finished_at


async def test_concurrent_calls_overlap_in_time(registry: ToolRegistry, ctx: ToolContext) -> None:
    outcomes = await dispatcher(registry, ctx).run(
        [call("a", "rendezvous", peer="b"), call("b", "rendezvous", peer="a")]
    )
    assert [o.content for o in outcomes] == ["met", "met"]
    first, second = outcomes
    assert first.started_at < second.finished_at and second.started_at < first.finished_at


async def test_concurrency_is_bounded(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    d = dispatcher(registry, ctx, concurrency=2)
    task = asyncio.create_task(d.run([call(f"g{i}", "gate", key="open") for i in range(5)]))
    await asyncio.wait_for(probe.event("started:g1").wait(), WAIT)
    assert len(probe.in_flight) == 2
    probe.event("gate:open").set()
    outcomes = await asyncio.wait_for(task, WAIT)
    assert [o.status for o in outcomes] == ["ok"] * 5
    assert probe.max_in_flight == 2


async def test_side_effect_tool_runs_alone(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    calls = [
        call("r1", "rendezvous", peer="r2"),
        call("r2", "rendezvous", peer="r1"),
        call("s1", "send", text="hello"),
        call("r3", "echo", text="after"),
    ]
    outcomes = await dispatcher(registry, ctx, concurrency=4).run(calls)
    assert [o.status for o in outcomes] == ["ok"] * 4
    assert probe.alone_violations == []
    r1, r2, s1, r3 = outcomes
    assert max(r1.finished_at, r2.finished_at) <= s1.started_at
    assert s1.finished_at <= r3.started_at


async def test_cancellation_propagates_and_cancels_tools(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    d = dispatcher(registry, ctx)
    task = asyncio.create_task(d.run([call("h1", "hang_long"), call("h2", "hang_long")]))
    await asyncio.wait_for(probe.event("started:h2").wait(), WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert probe.cancelled == {"h1", "h2"}
    assert d.started_call_ids == {"h1", "h2"} and d.finished_call_ids == set()


async def test_duplicate_call_ids_are_answered_once(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    outcomes = await dispatcher(registry, ctx).run(
        [call("same", "echo", text="a"), call("same", "echo", text="b")]
    )
    assert [o.status for o in outcomes] == ["ok", "skipped_duplicate"]
    assert probe.runs["echo"] == 1


async def test_every_call_is_answered_in_a_mixed_batch(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    calls = [
        call("1", "echo", text="x"),
        ToolCall("2", "echo", "not json"),
        call("3", "missing_tool"),
        call("4", "boom"),
        call("5", "fail"),
        call("6", "hang"),
        call("7", "ban", user="x"),
        call("8", "send", text="x"),
    ]
    outcomes = await dispatcher(registry, ctx).run(calls)
    assert [o.call_id for o in outcomes] == [c.id for c in calls]
    assert [o.status for o in outcomes] == [
        "ok",
        "invalid_json",
        "unknown_tool",
        "error",
        "error",
        "timeout",
        "denied",
        "ok",
    ]


# ---------------------------------------------------------------- ledger


async def test_ledger_prevents_a_second_run_in_a_turn_and_after_restart(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe, make_ctx: ContextFactory
) -> None:
    ledger = InMemoryLedger()
    d = dispatcher(registry, ctx, ledger=ledger)
    first, repeat = await d.run([call("a", "send", text="hi"), call("b", "send", text="hi")])
    assert (first.status, first.content) == ("ok", "sent hi (#1)")
    assert (repeat.status, repeat.content) == ("skipped_duplicate", "sent hi (#1)")
    assert probe.runs["send"] == 1

    restarted = dispatcher(
        registry, make_ctx(deps=ToolDeps().with_extra(PROBE, probe)), ledger=ledger
    )
    replay = await run_one(restarted, call("c", "send", text="hi"))
    assert (replay.status, replay.content) == ("skipped_duplicate", "sent hi (#1)")
    assert probe.runs["send"] == 1

    other_args = await run_one(restarted, call("d", "send", text="bye"))
    next_turn = dispatcher(
        registry,
        make_ctx(deps=ToolDeps().with_extra(PROBE, probe), turn_id="turn-2"),
        ledger=ledger,
    )
    later = await run_one(next_turn, call("e", "send", text="hi"))
    assert (other_args.status, later.status) == ("ok", "ok")
    assert probe.runs["send"] == 3
    record = ledger.get(ledger_key("conv-1", "turn-1", "send", '{"text":"hi"}'))
    assert record is not None and record.status == "completed" and record.outcome == "ok"


async def test_attempted_but_unfinished_side_effect_is_not_repeated(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    ledger = InMemoryLedger()
    timed_out = await run_one(
        dispatcher(registry, ctx, ledger=ledger), call("a", "send_slowly", text="x")
    )
    assert timed_out.status == "timeout" and "outcome is unknown" in timed_out.content
    (record,) = ledger.records()
    assert record.status == "attempted"
    again = await run_one(
        dispatcher(registry, ctx, ledger=ledger), call("b", "send_slowly", text="x")
    )
    assert again.status == "skipped_duplicate"
    assert "already attempted and its outcome is unknown; do not repeat it" in again.content
    assert probe.runs["send_slowly"] == 1


async def test_failing_ledger_blocks_the_side_effect(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    class BrokenLedger(InMemoryLedger):
        async def claim(self, key: str, tool: str, arguments: str) -> None:
            raise OSError("disk full")

    outcome = await run_one(
        dispatcher(registry, ctx, ledger=BrokenLedger()), call("a", "send", text="x")
    )
    assert outcome.status == "error" and "was not run" in outcome.content
    assert probe.runs["send"] == 0


# ---------------------------------------------------------------- artifacts, output, events


async def test_artifacts_attach_to_outcome_and_turn(
    registry: ToolRegistry, ctx: ToolContext
) -> None:
    good, bad = await dispatcher(registry, ctx).run(
        [call("a", "draw", fail_after=False), call("b", "draw", fail_after=True)]
    )
    assert [a.filename for a in good.artifacts] == ["pic.png"]
    assert good.artifacts[0].data == b"png-bytes"
    assert bad.status == "error" and bad.artifacts == []
    assert ctx.artifacts == []  # the turn's context keeps no copy: the outcomes carry them


async def test_non_string_results_and_truncation(registry: ToolRegistry, ctx: ToolContext) -> None:
    d = dispatcher(registry, ctx, max_output_chars=50)
    outcomes = await d.run([call(k, "shaped", kind=k) for k in ("dict", "none", "model", "long")])
    contents = [o.content for o in outcomes]
    assert contents[:3] == ['{"a": 1}', "Done.", '{"value":2}']
    assert (
        contents[3].startswith("x" * 50) and "[output truncated: 50 more characters]" in contents[3]
    )


async def test_progress_events(
    registry: ToolRegistry, make_ctx: ContextFactory, probe: Probe
) -> None:
    events: list[ToolEvent] = []
    relayed: list[str] = []

    async def on_event(event: ToolEvent) -> None:
        events.append(event)

    ctx = make_ctx(deps=ToolDeps().with_extra(PROBE, probe), on_progress=relayed.append)
    d = dispatcher(registry, ctx, on_event=on_event)
    await d.run([call("e", "echo", text="hello"), call("c", "chatty"), call("x", "nope")])
    started = {e.call.id: e.progress_text for e in events if isinstance(e, ToolStarted)}
    assert started == {"e": "Echoing hello...", "c": "Running chatty..."}
    progress = [(e.call.id, e.text) for e in events if isinstance(e, ToolProgress)]
    assert progress == [("c", "step 1"), ("c", "step 2")]
    finished = [e.outcome.call_id for e in events if isinstance(e, ToolFinished)]
    assert sorted(finished) == ["c", "e", "x"]
    assert relayed == ["step 1", "step 2"]
    first_started = next(i for i, e in enumerate(events) if isinstance(e, ToolStarted))
    first_finished_e = next(
        i for i, e in enumerate(events) if isinstance(e, ToolFinished) and e.outcome.call_id == "e"
    )
    assert first_started < first_finished_e


async def test_sync_and_failing_event_callbacks(
    registry: ToolRegistry, ctx: ToolContext, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def on_event(event: ToolEvent) -> None:
        seen.append(type(event).__name__)
        raise ValueError("display broke")

    outcome = await run_one(
        dispatcher(registry, ctx, on_event=on_event), call("a", "echo", text="x")
    )
    assert outcome.status == "ok"
    assert seen == ["ToolStarted", "ToolFinished"]
    assert any("event callback failed" in r.getMessage() for r in caplog.records)


async def test_call_ids_may_repeat_across_rounds(
    registry: ToolRegistry, ctx: ToolContext, probe: Probe
) -> None:
    d = dispatcher(registry, ctx)
    first = await run_one(d, call("call_0", "echo", text="a"))
    second = await run_one(d, call("call_0", "echo", text="b"))
    assert (first.content, second.content) == ("echo:a", "echo:b")
    assert probe.runs["echo"] == 2
