"""One MCP server's connection: started with the bot, reconnected with backoff, closed with it.

The connection runs in a task of its own (the SDK's client must be entered and left in one
task). While it is down, calls fail at once with :class:`ServerUnavailable` (nothing waits for a
dead server); a failed call triggers a health check but never disables the server.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Callable
from typing import Any, Literal

import mcp.types as mcp_types
from mcp import MCPError

from tools.mcp._sdk import make_client
from tools.mcp.config import McpServerConfig

logger = logging.getLogger("toolcord.mcp")

PING_TIMEOUT_S = 15.0
"""A busy server may answer a ping late; only a missing answer this long means it is gone."""
ConnectionState = Literal["starting", "connected", "reconnecting", "stopped"]
ToolsCallback = Callable[["McpConnection", list[mcp_types.Tool]], None]


class ServerUnavailable(Exception):
    """The server is not connected right now (the message is safe to show the model)."""


class McpConnection:
    """Keeps one server connected and its tool list current.

    Args:
        config: The server's settings.
        on_tools: Called with the server's tool list after every (re)listing.
        backoff_s: First wait before reconnecting; doubles up to ``backoff_max_s``.
        backoff_max_s: Longest wait between reconnection attempts.
        health_interval_s: Seconds between pings of a connected server.
    """

    def __init__(
        self,
        config: McpServerConfig,
        on_tools: ToolsCallback,
        *,
        backoff_s: float = 0.5,
        backoff_max_s: float = 30.0,
        health_interval_s: float = 10.0,
    ) -> None:
        self.config = config
        self.state: ConnectionState = "starting"
        self.last_error: str | None = None
        self.connects = 0
        self.tools: list[mcp_types.Tool] = []
        self._on_tools = on_tools
        self._backoff_s = backoff_s
        self._backoff_max_s = backoff_max_s
        self._health_interval_s = health_interval_s
        self._client: Any = None
        self._wake = asyncio.Event()
        self._relist = False
        self._check = False
        self._listed = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        """The server's configured name."""
        return self.config.name

    def start(self) -> None:
        """Start connecting in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"mcp-{self.name}")

    async def wait_listed(self, timeout_s: float) -> bool:
        """Wait until the first tool listing (True) or ``timeout_s`` passes (False)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._listed.wait()
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Stop the connection and the server (a stdio process ends with it)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:
                logger.exception("MCP server %s did not close cleanly", self.name)
        self._client = None
        self.state = "stopped"

    async def call(self, tool: str, arguments: dict[str, Any]) -> mcp_types.CallToolResult:
        """Call ``tool`` on the server.

        Raises:
            ServerUnavailable: If the server is not connected or the connection broke mid-call.
            mcp.MCPError: If the server refused the request (its message says why).
        """
        client = self._client
        if client is None or self.state != "connected":
            raise ServerUnavailable(self._unavailable_message())
        try:
            result: mcp_types.CallToolResult = await client.call_tool(tool, arguments)
            return result
        except (asyncio.CancelledError, TimeoutError):
            raise
        except Exception as error:
            self._request_check()
            if _is_protocol_refusal(error):
                raise
            raise ServerUnavailable(
                f"The connection to the MCP server '{self.name}' broke during the call "
                f"({type(error).__name__}); it is being reconnected. The call's outcome is unknown."
            ) from error

    # ------------------------------------------------------------------ background

    def _unavailable_message(self) -> str:
        detail = f" (last error: {self.last_error})" if self.last_error else ""
        return (
            f"The MCP server '{self.name}' is not connected right now{detail}; the bot is "
            "reconnecting. Tell the user this tool is unavailable for the moment."
        )

    def _request_check(self) -> None:
        self._check = True
        self._wake.set()

    async def _tools_changed(self) -> None:
        self._relist = True
        self._wake.set()

    async def _run(self) -> None:
        delay = self._backoff_s
        while not self._stopping:
            try:
                await self._session()
                delay = self._backoff_s
            except asyncio.CancelledError:
                raise
            except BaseException as error:  # anyio groups, transport and handshake errors
                self.last_error = _describe(error)
                logger.warning("MCP server %s: %s", self.name, self.last_error)
            self._client = None
            if self._stopping:
                break
            self.state = "reconnecting"
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff_max_s)

    async def _session(self) -> None:
        async with make_client(self.config, self._tools_changed) as client:
            await self._list(client)
            self._client = client
            self.state = "connected"
            self.connects += 1
            self.last_error = None
            logger.info("MCP server %s connected (%d tools)", self.name, len(self.tools))
            await self._watch(client)

    async def _watch(self, client: Any) -> None:
        while not self._stopping:
            if not (self._relist or self._check):
                try:
                    async with asyncio.timeout(self._health_interval_s):
                        await self._wake.wait()
                except TimeoutError:
                    self._check = True
            self._wake.clear()
            if self._relist:
                self._relist = False
                await self._list(client)
            if self._check:
                self._check = False
                async with asyncio.timeout(PING_TIMEOUT_S):
                    await _ping(client)

    async def _list(self, client: Any) -> None:
        tools: list[mcp_types.Tool] = []
        cursor: str | None = None
        for _ in range(50):
            page = await client.list_tools(cursor=cursor)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        self.tools = tools
        self._on_tools(self, tools)
        self._listed.set()


async def _ping(client: Any) -> None:
    """A ping (legacy-mode sessions, the ones this bot opens; the SDK warns it is deprecated)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        await client.send_ping()


def _is_protocol_refusal(error: Exception) -> bool:
    closed = getattr(mcp_types, "CONNECTION_CLOSED", -32000)
    return isinstance(error, MCPError) and error.code != closed


def _describe(error: BaseException) -> str:
    if isinstance(error, BaseExceptionGroup) and error.exceptions:
        return _describe(error.exceptions[0])
    return f"{type(error).__name__}: {error}"[:300]
