"""ToolRegistry: registration, module loading and per-context availability."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tools import Permissions, ToolContext, tool
from tools.definition import Tool
from tools.errors import ToolLoadError
from tools.registry import ToolRegistry, builtin_tool_modules, unavailable_reason
from tools.schema import assert_strict_tool

ContextFactory = Callable[..., ToolContext]


@tool
async def lookup(ctx: ToolContext, query: str) -> str:
    """Look something up."""
    return query


@tool(guild_only=True)
async def server_info(ctx: ToolContext) -> str:
    """Describe this server."""
    return "server"


@tool(owner_only=True)
async def shutdown(ctx: ToolContext) -> str:
    """Stop the bot."""
    return "bye"


@tool(required_permissions=("moderate_members",), side_effects=True)
async def timeout_member(ctx: ToolContext, user_id: str, minutes: int) -> str:
    """Time a member out."""
    return "done"


def registry() -> ToolRegistry:
    return ToolRegistry([lookup, server_info, shutdown, timeout_member])


def names(tools: list[Tool]) -> list[str]:
    return [t.name for t in tools]


def test_register_get_all_and_duplicates() -> None:
    reg = registry()
    assert reg.get("lookup") is lookup and reg.get("nope") is None
    assert "lookup" in reg and len(reg) == 4
    assert names(reg.all()) == ["lookup", "server_info", "shutdown", "timeout_member"]
    reg.register(lookup)  # same object again: fine

    @tool(name="lookup")
    async def other(ctx: ToolContext) -> str:
        """Another lookup."""
        return ""

    with pytest.raises(ValueError, match="Two tools are named 'lookup'"):
        reg.register(other)


def test_available_filters_by_context(make_ctx: ContextFactory) -> None:
    reg = registry()
    member = make_ctx()
    assert names(reg.available(member)) == ["lookup", "server_info"]

    dm = make_ctx(guild_id=None, member_permissions=None)
    assert names(reg.available(dm)) == ["lookup"]

    moderator = make_ctx(member_permissions=Permissions.from_names("moderate_members"))
    assert "timeout_member" in names(reg.available(moderator))

    admin = make_ctx(member_permissions=Permissions.from_names("administrator"), is_owner=True)
    assert names(reg.available(admin)) == names(reg.all())

    owner_in_dm = make_ctx(guild_id=None, member_permissions=None, is_owner=True)
    assert names(reg.available(owner_in_dm)) == ["lookup", "shutdown"]

    assert names(reg.available(admin, enabled={"lookup", "shutdown"})) == ["lookup", "shutdown"]


def test_unavailable_reasons_are_sentences(make_ctx: ContextFactory) -> None:
    dm = make_ctx(guild_id=None, member_permissions=None)
    assert "direct messages" in (unavailable_reason(server_info, dm) or "")
    assert "owner" in (unavailable_reason(shutdown, make_ctx()) or "")
    assert "moderate_members" in (unavailable_reason(timeout_member, make_ctx()) or "")
    assert "not enabled" in (unavailable_reason(lookup, make_ctx(), enabled=()) or "")
    assert unavailable_reason(lookup, dm) is None


def test_openai_tools_are_strict() -> None:
    reg = registry()
    entries = reg.openai_tools()
    assert [e["function"]["name"] for e in entries] == names(reg.all())
    for entry in entries:
        assert_strict_tool(entry)
    assert reg.openai_tools([lookup])[0]["function"]["parameters"]["required"] == ["query"]
    entries[0]["function"]["parameters"]["required"].append("mutated")
    assert lookup.parameters["required"] == ["query"]


def test_load_module_registers_top_level_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "owner_tools_demo.py").write_text(
        textwrap.dedent(
            '''
            from tools import ToolContext, tool

            @tool
            async def roll(ctx: ToolContext, sides: int = 6) -> str:
                """Roll a die."""
                return "4"

            alias = roll
            '''
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = ToolRegistry()
    loaded = reg.load_module("owner_tools_demo")
    assert names(loaded) == ["roll"] and reg.get("roll") is loaded[0]
    assert loaded[0].family == "owner_tools_demo"
    assert reg.load_module("owner_tools_demo") == loaded  # idempotent


def test_load_module_errors_name_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "broken_tools_demo.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = ToolRegistry()
    with pytest.raises(ToolLoadError, match="'no_such_tools_module'"):
        reg.load_module("no_such_tools_module")
    with pytest.raises(ToolLoadError, match=r"'broken_tools_demo'.*RuntimeError: boom"):
        reg.load_module("broken_tools_demo")
    with pytest.raises(ToolLoadError, match="'json' defines no tools"):
        reg.load_module("json")


def test_builtin_modules_include_weather_not_framework() -> None:
    modules = builtin_tool_modules()
    assert "tools.weather" in modules
    for framework in ("tools.registry", "tools.schema", "tools.dispatch", "tools._weather_data"):
        assert framework not in modules
    reg = ToolRegistry()
    reg.load_builtins()
    assert "weather" in reg
