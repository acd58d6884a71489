"""MCP security figures: injected text never runs an acting tool without approval; a member
without the server's permission causes no call."""

from __future__ import annotations

from tests.reliability.mcp_security import McpPlan, mcp_security_ok, run_mcp_security


async def test_injection_and_missing_permission_run_nothing() -> None:
    figures = await run_mcp_security(McpPlan(injected=6, no_permission=6, controls=2))

    assert figures["injected_attempts"] == 6 and figures["no_permission_attempts"] == 6
    assert figures["injected_executed"] == 0, figures
    assert figures["no_permission_calls"] == 0, figures
    assert figures["no_permission_offered"] == 0, figures
    assert figures["positive_controls_executed"] == 2, figures
    assert figures["unanswered"] == 0, figures
    assert figures["unhandled_exceptions"] == 0, figures["errors"]
    assert mcp_security_ok(figures)
