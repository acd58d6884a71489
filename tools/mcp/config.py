"""How one MCP server is declared (``[[mcp.servers]]`` in the bot's config).

Secrets never live in the config file: a value of ``env`` or ``headers`` written as
``"env:NAME"`` is read from the environment variable ``NAME`` when the server starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.permissions import Permissions

ApprovalMode = Literal["auto", "always", "never"]
SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,24}$")
ENV_PREFIX = "env:"
_SECRET_NAME = re.compile(r"auth|token|key|secret|password|cookie|credential", re.IGNORECASE)


class McpServerConfig(BaseModel):
    """One MCP server: stdio (``command``) or streamable HTTP (``url``), never both.

    Attributes:
        name: Prefix of the server's tools (``<name>__<tool>``); letters, digits, ``_``, ``-``.
        command: Executable of a stdio server (only ever from the owner's config).
        args: Its arguments.
        env: Extra environment of a stdio server; ``"env:NAME"`` values come from ``NAME``.
        cwd: Working directory of a stdio server.
        url: Endpoint of a streamable HTTP server.
        headers: HTTP headers; ``"env:NAME"`` values come from ``NAME`` (tokens).
        include: Only these tool names (server-side names); empty = all.
        exclude: Never these tool names.
        timeout_s: Seconds one call may take before the model is told it timed out.
        permission: Discord permission a member needs for this server's acting tools
            (default ``manage_guild``); read-only tools need none unless ``permission_all``.
        permission_all: The permission applies to read-only tools too.
        owner_only: Only the bot's owner may use this server's tools.
        approval: ``auto`` (the tool's annotations decide), ``always`` or ``never``.
        approval_tools: Per tool (server-side name) override of ``approval``.
    """

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SERVER_NAME.pattern)
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    timeout_s: float = Field(30.0, gt=0, le=600)
    permission: str = "manage_guild"
    permission_all: bool = False
    owner_only: bool = False
    approval: ApprovalMode = "auto"
    approval_tools: dict[str, ApprovalMode] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError(
                f"MCP server {self.name!r}: set exactly one of command (stdio) or url (HTTP)."
            )
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"MCP server {self.name!r}: url must start with http:// or https://.")
        Permissions.check_names([self.permission])
        for what, values in (("env", self.env), ("headers", self.headers)):
            for key, value in values.items():
                if _SECRET_NAME.search(key) and not value.startswith(ENV_PREFIX):
                    raise ValueError(
                        f"MCP server {self.name!r}: {what}.{key} looks like a secret; write "
                        f'"env:VARIABLE" and put the value in that environment variable.'
                    )
        return self

    @property
    def transport(self) -> str:
        """``stdio`` or ``http``."""
        return "stdio" if self.command is not None else "http"

    def wants_tool(self, tool_name: str) -> bool:
        """Whether the include/exclude lists keep ``tool_name``."""
        if self.include and tool_name not in self.include:
            return False
        return tool_name not in self.exclude

    def resolved_env(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """``env`` with ``env:NAME`` references read from the environment."""
        return _resolve(self.env, "env", self.name, environ)

    def resolved_headers(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """``headers`` with ``env:NAME`` references read from the environment."""
        return _resolve(self.headers, "headers", self.name, environ)


class MissingSecretError(LookupError):
    """A server's config names an environment variable that is not set (the owner must set it)."""


def _resolve(
    values: Mapping[str, str], what: str, server: str, environ: Mapping[str, str] | None
) -> dict[str, str]:
    source = os.environ if environ is None else environ
    resolved: dict[str, str] = {}
    for key, value in values.items():
        if not value.startswith(ENV_PREFIX):
            resolved[key] = value
            continue
        variable = value.removeprefix(ENV_PREFIX)
        if variable not in source:
            raise MissingSecretError(
                f"MCP server {server!r}: {what}.{key} reads the environment variable "
                f"{variable!r}, which is not set; set it before starting the bot."
            )
        resolved[key] = source[variable]
    return resolved
