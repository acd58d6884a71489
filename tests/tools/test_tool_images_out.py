"""Images out of tools (issue 21): an image a tool attaches is also for the model, unless told."""

from __future__ import annotations

from tools import Artifact, ToolContext
from tools.calls import ToolOutcome


def test_images_a_tool_attaches_are_for_the_model_unless_kept_to_the_reply() -> None:
    ctx = ToolContext(user_id=1, user_name="bob", channel_id=2)
    shown = ctx.attach("chart.png", b"\x89PNG...", "image/png", "sales chart")
    kept = ctx.attach("private.png", b"\x89PNG...", "image/png", show_model=False)
    text = ctx.attach("report.txt", b"numbers", "text/plain")
    outcome = ToolOutcome("call_1", "chart", "made a chart", "ok", [shown, kept, text])

    assert outcome.images_for_model == [shown]
    assert (shown.is_image, kept.show_model, text.is_image) == (True, False, False)


def test_an_mcp_style_artifact_built_directly_is_shown_by_default() -> None:
    image = Artifact("screenshot.webp", b"RIFF....WEBP", "image/webp")
    assert ToolOutcome("c", "mcp_tool", "ok", "ok", [image]).images_for_model == [image]
