"""MCP client against the third-party @modelcontextprotocol/server-everything (npm), over stdio
and over streamable HTTP. scripts/test installs it into tests/mcp_peers (skipped without npm)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tools import ToolFailed
from tools.calls import ToolCall
from tools.dispatch import Dispatcher
from tools.mcp import McpManager, McpServerConfig, McpTool
from tools.registry import ToolRegistry

from .peers import EVERYTHING, free_port, http_server

pytestmark = pytest.mark.skipif(
    not EVERYTHING.exists() or shutil.which("node") is None,
    reason="server-everything is not installed: run (cd tests/mcp_peers && npm ci) - needs npm",
)


def tool(registry: ToolRegistry, name: str) -> McpTool:
    found = registry.get(name)
    assert isinstance(found, McpTool), sorted(registry.names())
    return found


@pytest.fixture(params=["stdio", "http"])
async def everything(request: Any) -> AsyncIterator[ToolRegistry]:
    registry = ToolRegistry()
    if request.param == "stdio":
        config = McpServerConfig(name="every", command="node", args=[str(EVERYTHING), "stdio"])
        manager = McpManager([config], registry)
        await manager.start(60)
        try:
            yield registry
        finally:
            await manager.close()
        return
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    with http_server(["node", str(EVERYTHING), "streamableHttp"], port, env):
        config = McpServerConfig(name="every", url=f"http://127.0.0.1:{port}/mcp")
        manager = McpManager([config], registry)
        await manager.start(60)
        try:
            yield registry
        finally:
            await manager.close()


async def test_lists_and_echoes(everything: ToolRegistry, make_ctx) -> None:
    names = everything.names()
    assert {"every__echo", "every__get-sum", "every__get-tiny-image"} <= set(names)
    echo = tool(everything, "every__echo")
    assert echo.openai_schema()["function"]["strict"] is True
    text = await echo.invoke(make_ctx(), echo.parse_arguments('{"message": "hello"}'))
    assert '<mcp_result server="every" tool="echo" untrusted="true">\nEcho: hello\n' in text


async def test_image_attached(everything: ToolRegistry, make_ctx) -> None:
    image = tool(everything, "every__get-tiny-image")
    ctx = make_ctx()
    text = await image.invoke(ctx, image.parse_arguments("{}"))
    assert [a.content_type for a in ctx.artifacts] == ["image/png"]
    assert ctx.artifacts[0].data[:4] == b"\x89PNG"
    assert f"[image {ctx.artifacts[0].filename} (image/png," in text


async def test_structured_content_and_bad_arguments(everything: ToolRegistry, make_ctx) -> None:
    ctx = make_ctx()
    dispatcher = Dispatcher(everything, ctx, everything.names())
    [bad, good] = await dispatcher.run(
        [
            ToolCall("c1", "every__get-sum", '{"a": "one", "b": 2}'),
            ToolCall("c2", "every__get-sum", '{"a": 1, "b": 2}'),
        ]
    )
    assert bad.status == "invalid_arguments"
    assert "a: 'one' is not of type 'number'" in bad.content
    assert good.status == "ok"
    expected = 'tool="get-sum" untrusted="true">\nThe sum of 1 and 2 is 3.\n</mcp_result>'
    assert good.content.endswith(expected)


async def test_structured_content_shown_once(everything: ToolRegistry, make_ctx) -> None:
    weather = tool(everything, "every__get-structured-content")
    text = await weather.invoke(make_ctx(), weather.parse_arguments('{"location": "Chicago"}'))
    body = text.split('untrusted="true">\n', 1)[1]
    assert body.count('"temperature"') == 1 and body.endswith("\n</mcp_result>")


async def test_annotations_decide_who_may_call(everything: ToolRegistry) -> None:
    assert tool(everything, "every__get-sum").required_permissions == ()
    assert not tool(everything, "every__get-sum").side_effects
    gzip = tool(everything, "every__gzip-file-as-resource")
    assert gzip.required_permissions == ("manage_guild",) and gzip.side_effects


async def test_server_side_refusal_is_a_tool_error(everything: ToolRegistry, make_ctx) -> None:
    echo = tool(everything, "every__echo")
    # The local schema check is bypassed (model_construct) so the server itself refuses.
    with pytest.raises(ToolFailed, match="the MCP server reported an error") as raised:
        await echo.fn(make_ctx(), echo.params_model.model_construct())
    assert "Invalid arguments for tool echo" in raised.value.message
    text = await echo.invoke(make_ctx(), echo.parse_arguments('{"message": "still up"}'))
    assert "\nEcho: still up\n" in text


async def test_past_the_limit_only_relevant_tools_are_offered(everything: ToolRegistry) -> None:
    from tools.mcp.selection import select_tools
    from tools.weather import weather

    tools = [weather, *everything.all()]
    assert len(select_tools(tools, "anything", 24)) == len(tools)
    chosen = select_tools(tools, "what is the sum of 2 and 3?", 1)
    assert [t.name for t in chosen] == ["weather", "every__get-sum"]
    full = len(json.dumps(everything.openai_tools()))
    cut = len(json.dumps(everything.openai_tools(chosen[1:])))
    assert cut * 4 < full, (cut, full)


async def test_resources_become_links_and_files(everything: ToolRegistry, make_ctx) -> None:
    links = tool(everything, "every__get-resource-links")
    text = await links.invoke(make_ctx(), links.parse_arguments('{"count": 2}'))
    assert "\nresource link: demo://resource/dynamic/blob/1 (Blob Resource 1)\n" in text
    assert "\nresource link: demo://resource/dynamic/text/2 (Text Resource 2)\n" in text
    reference = tool(everything, "every__get-resource-reference")
    ctx = make_ctx()
    arguments = '{"resourceType": "Blob", "resourceId": 2}'
    text = await reference.invoke(ctx, reference.parse_arguments(arguments))
    [artifact] = ctx.artifacts
    assert artifact.filename == "get-resource-reference-2.txt"
    assert artifact.data.startswith(b"Resource 2: This is a base64 blob")
    assert "resource demo://resource/dynamic/blob/2: [file get-resource-reference-2.txt" in text
