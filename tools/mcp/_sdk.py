"""The one module that touches the ``mcp`` SDK's transports (shim for its internals)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import mcp.types as mcp_types
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tools.mcp.config import McpServerConfig

ListChanged = Callable[[], Awaitable[None]]


def make_client(config: McpServerConfig, on_tools_changed: ListChanged) -> Client:
    """An unopened SDK client for ``config`` (enter it with ``async with``).

    Raises:
        MissingSecretError: If an ``env:NAME`` reference names an unset variable.
    """

    async def handle(message: Any) -> None:
        if isinstance(message, mcp_types.ToolListChangedNotification):
            await on_tools_changed()

    server: Any
    if config.command is not None:
        server = StdioServerParameters(
            command=config.command,
            args=list(config.args),
            env=config.resolved_env() or None,
            cwd=config.cwd,
        )
    else:
        assert config.url is not None
        server = _http_transport(config.url, config.resolved_headers())
    return Client(server, message_handler=handle, cache=None, mode="legacy")


@asynccontextmanager
async def _http_transport(url: str, headers: dict[str, str]) -> AsyncIterator[Any]:
    """Streamable HTTP streams over an HTTP client of our own, closed with the transport."""
    async with (
        create_mcp_http_client(headers=headers or None) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams
