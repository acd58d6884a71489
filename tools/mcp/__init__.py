"""MCP servers as tool sources: each server's tools become ``<server>__<tool>`` toolcord tools."""

from tools.mcp.adapter import McpTool, build_tool, is_acting, tool_name
from tools.mcp.config import McpServerConfig, MissingSecretError
from tools.mcp.connection import McpConnection, ServerUnavailable
from tools.mcp.manager import McpManager, ServerStatus

__all__ = [
    "McpConnection",
    "McpManager",
    "McpServerConfig",
    "McpTool",
    "MissingSecretError",
    "ServerStatus",
    "ServerUnavailable",
    "build_tool",
    "is_acting",
    "tool_name",
]
