"""ToolDeps: what the bot provides to tools, typed; a dependency it did not provide is named."""

from __future__ import annotations

import json

from tools import ToolContext, tool
from tools.calls import ToolCall
from tools.deps import Dep, ToolDeps
from tools.dispatch import Dispatcher
from tools.registry import ToolRegistry

CALENDAR: Dep[list[str]] = Dep("calendar")


@tool
async def add_event(ctx: ToolContext, title: str) -> str:
    """Put an event in the server's calendar.

    Args:
        title: The event's title.
    """
    events = ctx.deps.need(CALENDAR)
    events.append(title)
    return f"added {title}"


async def _call(deps: ToolDeps) -> tuple[str, str]:
    ctx = ToolContext(user_id=1, user_name="alice", channel_id=2, guild_id=3, deps=deps)
    registry = ToolRegistry([add_event])
    dispatcher = Dispatcher(registry, ctx, ["add_event"])
    (outcome,) = await dispatcher.run([ToolCall("c1", "add_event", json.dumps({"title": "x"}))])
    return outcome.status, outcome.content


async def test_a_tool_gets_the_dependency_the_bot_provided() -> None:
    events: list[str] = []
    assert await _call(ToolDeps().with_extra(CALENDAR, events)) == ("ok", "added x")
    assert events == ["x"]


async def test_a_dependency_the_bot_did_not_provide_is_named_in_the_error() -> None:
    status, content = await _call(ToolDeps())
    assert status == "error"
    assert "needs the 'calendar' dependency, which the bot did not provide" in content
    assert "composition root" in content


def test_built_in_dependencies_are_fields_and_default_to_none() -> None:
    deps = ToolDeps()
    assert deps.openai is None and deps.quotas is None and deps.approver is None
    assert deps.input_files == () and deps.get(CALENDAR) is None
