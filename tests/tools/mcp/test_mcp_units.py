"""MCP pieces without a server: names, schemas, annotations, secrets in the config."""

from __future__ import annotations

import re

import pytest
from mcp import types as mcp_types
from pydantic import ValidationError

from tools.mcp import McpServerConfig, build_tool, is_acting, tool_name
from tools.mcp.connection import McpConnection


def remote(name: str = "t", schema: dict | None = None, **hints: bool) -> mcp_types.Tool:
    annotations = mcp_types.ToolAnnotations(**hints) if hints else None
    return mcp_types.Tool(
        name=name,
        description="A tool.",
        input_schema=schema or {"type": "object", "properties": {}},
        annotations=annotations,
    )


CONFIG = McpServerConfig(name="srv", command="x")


def build(tool: mcp_types.Tool, config: McpServerConfig = CONFIG):
    return build_tool(config, tool, McpConnection(config, lambda *_: None))


def test_names_follow_the_api_rules() -> None:
    assert tool_name("srv", "read_file") == "srv__read_file"
    odd = tool_name("srv", "files/read.v2")
    assert odd.startswith("srv__files_read_v2_") and len(odd) == len("srv__files_read_v2_") + 8
    long = tool_name("srv", "x" * 80)
    assert len(long) == 64 and long.startswith("srv__xxx")
    assert tool_name("srv", "x" * 80) != tool_name("srv", "x" * 81)


def test_annotations_decide_acting_and_config_overrides() -> None:
    assert is_acting(CONFIG, remote(read_only_hint=False))
    assert is_acting(CONFIG, remote()), "MCP's default: a tool is not read-only"
    assert not is_acting(CONFIG, remote(read_only_hint=True))
    never = McpServerConfig(name="srv", command="x", approval_tools={"t": "never"})
    always = McpServerConfig(name="srv", command="x", approval="always")
    assert not is_acting(never, remote())
    assert is_acting(always, remote(read_only_hint=True))


def test_a_schema_strict_mode_cannot_express_is_sent_non_strict_and_still_checked() -> None:
    schema = {
        "type": "object",
        "properties": {"tags": {"type": "object", "additionalProperties": {"type": "string"}}},
        "required": ["tags"],
    }
    tool = build(remote(schema=schema, read_only_hint=True))
    entry = tool.openai_schema()["function"]
    assert entry["strict"] is False and entry["parameters"]["required"] == ["tags"]
    assert tool.parse_arguments('{"tags": {"a": "b"}}').model_dump() == {"tags": {"a": "b"}}
    with pytest.raises(ValidationError, match=re.escape("tags.a: 1 is not of type 'string'")):
        tool.parse_arguments('{"tags": {"a": 1}}')


def test_acting_tools_need_approval_and_the_permission() -> None:
    tool = build(remote())
    assert tool.approval and tool.side_effects
    assert tool.required_permissions == ("manage_guild",)
    reader = build(remote(read_only_hint=True))
    assert not reader.approval and reader.required_permissions == ()


def test_secrets_in_the_file_are_refused() -> None:
    refused = re.escape("headers.Authorization looks like a secret")
    with pytest.raises(ValidationError, match=refused):
        McpServerConfig(name="x", url="http://h/mcp", headers={"Authorization": "Bearer abc"})
    with pytest.raises(ValidationError, match=re.escape("env.GITHUB_TOKEN looks like a secret")):
        McpServerConfig(name="x", command="c", env={"GITHUB_TOKEN": "ghp_x"})
    fine = McpServerConfig(name="x", command="c", env={"GITHUB_TOKEN": "env:GH", "MODE": "ro"})
    assert fine.resolved_env({"GH": "s"}) == {"GITHUB_TOKEN": "s", "MODE": "ro"}


def test_nested_optional_nulls_are_dropped_before_the_server_check() -> None:
    schema = {
        "type": "object",
        "properties": {
            "filter": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "limit": {"type": "integer"}},
                "required": ["name"],
            },
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"tag": {"type": "string"}}},
            },
        },
        "required": ["filter"],
    }
    tool = build(remote(schema=schema, read_only_hint=True))
    assert tool.openai_schema()["function"]["strict"] is True
    raw = '{"filter": {"name": "a", "limit": null}, "items": [{"tag": null}]}'
    assert tool.parse_arguments(raw).model_dump() == {"filter": {"name": "a"}, "items": [{}]}
