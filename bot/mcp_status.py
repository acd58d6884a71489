"""What ``/mcp`` and ``python -m bot check`` say about the MCP servers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.errors import ConfigError
from bot.settings import Settings
from tools.mcp import ServerStatus
from tools.registry import ToolRegistry

STATE_ICONS = {"connected": "🟢", "starting": "🟡", "reconnecting": "🟠", "stopped": "⚫"}


def status_lines(statuses: list[ServerStatus], texts: Callable[..., str]) -> str:
    """One paragraph per server: name, transport, state, tools (for Discord).

    Args:
        statuses: every server's status.
        texts: the catalogue lookup in the reader's language (``key, **values -> str``).
    """
    if not statuses:
        return texts("mcp.no_servers")
    blocks = []
    for status in statuses:
        icon = STATE_ICONS.get(status.state, "?")
        head = f"{icon} **{status.name}** ({status.transport}): {status.state}"
        if status.last_error:
            head += texts("mcp.last_error", error=status.last_error[:200])
        tools = ", ".join(f"`{name}`" for name in status.tools) or texts("mcp.no_tools")
        blocks.append(f"{head}\n" + texts("mcp.tools", count=len(status.tools), tools=tools))
    return "\n".join(blocks)[:1900]


def status_summary(statuses: list[ServerStatus]) -> list[dict[str, Any]]:
    """JSON-ready status of every server."""
    return [
        {
            "name": s.name,
            "transport": s.transport,
            "state": s.state,
            "tools": list(s.tools),
            "last_error": s.last_error,
        }
        for s in statuses
    ]


async def check_servers(settings: Settings) -> tuple[list[dict[str, Any]], list[str]]:
    """Start every configured server, list its tools, stop it: the summary and the problems."""
    from bot.wiring import start_mcp

    if not settings.mcp.servers:
        return [], []
    try:
        manager = await start_mcp(settings, ToolRegistry())
    except ConfigError as error:
        return [], [str(error)]
    try:
        statuses = manager.status()
    finally:
        await manager.close()
    problems = [
        f"MCP server {s.name!r} did not connect ({s.last_error or 'no answer in time'}); "
        "check its command/url in [[mcp.servers]]."
        for s in statuses
        if s.state != "connected"
    ]
    return status_summary(statuses), problems
