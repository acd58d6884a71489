"""ToolContext: artifacts, progress, services and per-call copies."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tools import ToolContext
from tools.deps import Dep, MissingDependency, ToolDeps
from tools.docstrings import parse_docstring

ContextFactory = Callable[..., ToolContext]


def test_attach_collects_artifacts(make_ctx: ContextFactory) -> None:
    ctx = make_ctx()
    artifact = ctx.attach("cat.png", b"\x89PNG", "image/png", description="A cat")
    assert ctx.artifacts == [artifact]
    assert artifact.data == b"\x89PNG" and artifact.description == "A cat"
    for bad in ("", "../x.png", "a/b.png", "a\\b.png", ".."):
        with pytest.raises(ValueError, match="plain file name"):
            ctx.attach(bad, b"", "image/png")


async def test_report_progress_sync_async_and_absent(make_ctx: ContextFactory) -> None:
    seen: list[str] = []

    async def async_callback(text: str) -> None:
        seen.append(f"async:{text}")

    await make_ctx().report_progress("nobody listens")
    await make_ctx(on_progress=seen.append).report_progress("one")
    await make_ctx(on_progress=async_callback).report_progress("two")
    assert seen == ["one", "async:two"]


LEDGER: Dep[str] = Dep("ledger")
NOTES: Dep[str] = Dep("notes")


def test_dependencies_are_typed_and_a_missing_one_is_named(make_ctx: ContextFactory) -> None:
    ctx = make_ctx(deps=ToolDeps().with_extra(NOTES, "the notes"))
    assert ctx.deps.need(NOTES) == "the notes"
    assert ctx.deps.get(NOTES) == "the notes"
    assert ctx.deps.get(LEDGER) is None
    with pytest.raises(MissingDependency, match=r"'ledger' dependency.*composition root"):
        ctx.deps.need(LEDGER)


def test_for_call_copies_with_family_config(make_ctx: ContextFactory) -> None:
    ctx = make_ctx(config={"fallback": True}, tool_settings={"weather": {"units": "metric"}})
    ctx.attach("a.txt", b"a", "text/plain")
    child = ctx.for_call(call_id="c1", tool_name="weather", family="weather", on_progress=None)
    assert child.config == {"units": "metric"}
    assert child.artifacts == [] and len(ctx.artifacts) == 1
    assert (child.call_id, child.tool_name, child.user_id) == ("c1", "weather", ctx.user_id)
    other = ctx.for_call(call_id="c2", tool_name="x", family="search", on_progress=None)
    assert other.config == {"fallback": True}
    assert not make_ctx(guild_id=None).in_guild


def test_docstring_sections() -> None:
    parsed = parse_docstring(
        """Summary line.

        More text.

        Args:
            a (int): First.
            b: Second
                continued.
            **extra: Ignored kwargs.

        Raises:
            ValueError: never.
        """
    )
    assert parsed.description == "Summary line.\n\nMore text."
    assert parsed.params == {"a": "First.", "b": "Second continued.", "extra": "Ignored kwargs."}
    assert parse_docstring(None).description == ""
