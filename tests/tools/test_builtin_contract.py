"""Contract: every built-in tool found via the registry has a strict schema OpenAI accepts."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator

from tools.definition import Tool
from tools.registry import ToolRegistry, builtin_tool_modules
from tools.schema import assert_strict_schema, assert_strict_tool


def builtin_tools() -> list[Tool]:
    registry = ToolRegistry()
    registry.load_builtins()
    return registry.all()


def test_there_are_builtin_tools() -> None:
    assert "tools.weather" in builtin_tool_modules()
    assert builtin_tools()


@pytest.mark.parametrize("tool", builtin_tools(), ids=lambda t: t.name)
def test_builtin_tool_schema_is_strict(tool: Tool) -> None:
    entry = tool.openai_schema()
    Draft202012Validator.check_schema(entry["function"]["parameters"])
    assert_strict_schema(entry["function"]["parameters"])
    assert_strict_tool(entry)


@pytest.mark.parametrize("tool", builtin_tools(), ids=lambda t: t.name)
def test_builtin_tool_is_described_for_the_model(tool: Tool) -> None:
    assert len(tool.description) >= 40, "the description is what the model reads; say more"
    for name, prop in tool.parameters["properties"].items():
        assert prop.get("description"), f"{tool.name}.{name} needs a description"
