"""An MCP server's tool as a toolcord :class:`Tool` named ``<server>__<tool>``.

The input schema is converted to OpenAI's strict mode when it can be (optional properties
become nullable; a ``null`` is dropped before the call) and sent non-strict otherwise; either
way the arguments are validated against the server's own schema before the call.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import mcp.types as mcp_types
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from tools.context import ToolContext
from tools.definition import Tool
from tools.errors import StrictSchemaError, ToolDefinitionError, ToolFailed
from tools.mcp.config import McpServerConfig
from tools.mcp.connection import McpConnection, ServerUnavailable
from tools.mcp.results import render_result
from tools.schema import to_strict_schema

_INVALID = re.compile(r"[^A-Za-z0-9_-]")
SEPARATOR = "__"


def tool_name(server: str, remote: str) -> str:
    """``<server>__<tool>`` within the API's ``^[a-zA-Z0-9_-]{1,64}$`` (hash suffix if cut)."""
    name = f"{server}{SEPARATOR}{_INVALID.sub('_', remote)}"
    if len(name) <= 64 and name == f"{server}{SEPARATOR}{remote}":
        return name
    digest = hashlib.sha256(remote.encode()).hexdigest()[:8]
    return f"{name[:55]}_{digest}"


def is_acting(config: McpServerConfig, remote: mcp_types.Tool) -> bool:
    """Whether a tool changes the world: its annotations, unless the config overrides.

    MCP's defaults apply when a server says nothing: a tool is not read-only.
    """
    mode = config.approval_tools.get(remote.name, config.approval)
    if mode == "always":
        return True
    if mode == "never":
        return False
    hints = remote.annotations
    return not (hints is not None and hints.read_only_hint is True)


class McpArguments(BaseModel):
    """Arguments of an MCP tool: any JSON object, checked against the server's schema."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True, eq=False)
class McpTool(Tool):
    """A tool served by an MCP server (see the module docstring)."""

    server: str = ""
    remote_name: str = ""
    input_schema: dict[str, Any] = field(default_factory=dict, repr=False)
    strict: bool = True

    def __post_init__(self) -> None:
        if not self.family:
            object.__setattr__(self, "family", "mcp")
        try:
            parameters = to_strict_schema(self.input_schema)
            strict = True
        except StrictSchemaError:
            parameters, strict = _loose(self.input_schema), False
        parameters.pop("description", None)
        object.__setattr__(self, "parameters", parameters)
        object.__setattr__(self, "strict", strict)

    def openai_schema(self) -> dict[str, Any]:
        """The Chat Completions ``tools`` entry (strict when the schema allows)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters),
                "strict": self.strict,
            },
        }


def build_tool(
    config: McpServerConfig, remote: mcp_types.Tool, connection: McpConnection
) -> McpTool:
    """The toolcord tool for ``remote``; arguments validated, results delimited and mapped.

    Raises:
        ToolDefinitionError: If the server's input schema is not a valid JSON schema.
    """
    schema = dict(remote.input_schema or {"type": "object"})
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise ToolDefinitionError(
            f"MCP tool {remote.name!r} of server {config.name!r} has an invalid input schema: "
            f"{error.message}"
        ) from None
    validator = Draft202012Validator(schema)
    name = tool_name(config.name, remote.name)
    acting = is_acting(config, remote)

    def check(data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cleaned = drop_unset(data, schema)
        errors = sorted(validator.iter_errors(cleaned), key=lambda e: list(e.path))
        if errors:
            shown = "; ".join(_error_text(e) for e in errors[:5])
            raise ValueError(f"does not match the tool's input schema: {shown}")
        return cleaned

    class Arguments(McpArguments):
        @model_validator(mode="before")
        @classmethod
        def _schema(cls, data: Any) -> Any:
            return check(data)

    Arguments.__name__ = f"Args_{name}"
    params_model: type[BaseModel] = Arguments

    async def call(ctx: ToolContext, params: BaseModel) -> str:
        arguments = params.model_dump(mode="json")
        try:
            result = await connection.call(remote.name, arguments)
        except ServerUnavailable as error:
            raise ToolFailed(str(error)) from None
        except ValidationError:
            raise ToolFailed(
                f"the MCP server '{config.name}' sent a malformed result; the outcome is unknown."
            ) from None
        except Exception as error:  # the server refused the request (MCPError)
            raise ToolFailed(
                f"the MCP server '{config.name}' refused the call: {str(error)[:300]}"
            ) from None
        return render_result(result, ctx, config.name, remote.name)

    call.__name__ = name
    call.__module__ = "tools.mcp.adapter"
    hints = remote.annotations
    title = remote.title or (hints.title if hints is not None else None)
    description = (remote.description or title or f"The MCP tool {remote.name}.").strip()
    return McpTool(
        name=name,
        description=f"[MCP server {config.name}] {description}"[:1024],
        params_model=params_model,
        fn=call,
        takes_context=True,
        model_style=True,
        owner_only=config.owner_only,
        required_permissions=(config.permission,) if acting or config.permission_all else (),
        side_effects=acting,
        approval=acting,
        timeout=config.timeout_s,
        family="mcp",
        server=config.name,
        remote_name=remote.name,
        input_schema=schema,
    )


def drop_unset(value: Any, schema: Any) -> Any:
    """``value`` without the ``null`` strict mode made the model send for optional properties.

    Follows ``properties`` and ``items`` of the server's schema; a property the schema requires
    keeps its ``null``.
    """
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        return {
            key: drop_unset(item, properties.get(key))
            for key, item in value.items()
            if item is not None or key in required or key not in properties
        }
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [drop_unset(item, schema["items"]) for item in value]
    return value


def _loose(schema: dict[str, Any]) -> dict[str, Any]:
    loose = copy.deepcopy(schema)
    for key in ("$schema", "$id", "title"):
        loose.pop(key, None)
    loose.setdefault("type", "object")
    loose.setdefault("properties", {})
    return loose


def _error_text(error: Any) -> str:
    where = ".".join(str(part) for part in error.path) or "(arguments)"
    return f"{where}: {error.message}"[:200]
