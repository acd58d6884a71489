"""Every configured MCP server: started with the bot, their tools kept in the registry."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import mcp.types as mcp_types

from tools.errors import ToolDefinitionError
from tools.mcp.adapter import McpTool, build_tool
from tools.mcp.config import McpServerConfig
from tools.mcp.connection import ConnectionState, McpConnection
from tools.registry import ToolRegistry

logger = logging.getLogger("toolcord.mcp")


@dataclass(frozen=True)
class ServerStatus:
    """What ``/mcp`` and ``python -m bot check`` show about one server."""

    name: str
    transport: str
    state: ConnectionState
    tools: tuple[str, ...]
    last_error: str | None
    skipped: tuple[str, ...]


class McpManager:
    """Owns the connections; registers each server's tools in ``registry`` as they are listed.

    A tool the server stops listing is removed from the registry; a server that is down keeps
    its tools registered and their calls fail at once with a message the model can relay.

    Args:
        servers: The configured servers.
        registry: The bot's tool registry.
        backoff_s / backoff_max_s / health_interval_s: See :class:`McpConnection`.
    """

    def __init__(
        self,
        servers: Sequence[McpServerConfig],
        registry: ToolRegistry,
        *,
        backoff_s: float = 0.5,
        backoff_max_s: float = 30.0,
        health_interval_s: float = 10.0,
    ) -> None:
        names = [server.name for server in servers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"MCP server names must be unique; repeated: {duplicates}.")
        self._registry = registry
        self._skipped: dict[str, list[str]] = {}
        self._owned: dict[str, set[str]] = {}
        self.connections = {
            server.name: McpConnection(
                server,
                self._register,
                backoff_s=backoff_s,
                backoff_max_s=backoff_max_s,
                health_interval_s=health_interval_s,
            )
            for server in servers
        }

    async def start(self, wait_s: float = 10.0) -> None:
        """Start every server and wait up to ``wait_s`` for their first tool listings."""
        for connection in self.connections.values():
            connection.start()
        if self.connections:
            await asyncio.gather(*(c.wait_listed(wait_s) for c in self.connections.values()))

    async def close(self) -> None:
        """Close every server."""
        await asyncio.gather(*(c.close() for c in self.connections.values()))

    def status(self) -> list[ServerStatus]:
        """Every server's state and tools, in config order."""
        return [
            ServerStatus(
                name=name,
                transport=connection.config.transport,
                state=connection.state,
                tools=tuple(sorted(self._owned.get(name, ()))),
                last_error=connection.last_error,
                skipped=tuple(self._skipped.get(name, ())),
            )
            for name, connection in self.connections.items()
        ]

    def tools(self, server: str) -> list[McpTool]:
        """The registered tools of ``server``."""
        found = (self._registry.get(name) for name in sorted(self._owned.get(server, ())))
        return [item for item in found if isinstance(item, McpTool)]

    def _register(self, connection: McpConnection, listed: list[mcp_types.Tool]) -> None:
        config = connection.config
        fresh: set[str] = set()
        skipped: list[str] = []
        for remote in listed:
            if not config.wants_tool(remote.name):
                continue
            try:
                built = build_tool(config, remote, connection)
            except ToolDefinitionError as error:
                logger.warning("%s", error)
                skipped.append(remote.name)
                continue
            old = self._registry.get(built.name)
            if old is not None and not (isinstance(old, McpTool) and old.server == config.name):
                logger.warning("MCP tool %s clashes with tool %s; skipped", remote.name, old.name)
                skipped.append(remote.name)
                continue
            self._registry.replace(built)
            fresh.add(built.name)
        for gone in self._owned.get(config.name, set()) - fresh:
            self._registry.unregister(gone)
        self._owned[config.name] = fresh
        self._skipped[config.name] = skipped
