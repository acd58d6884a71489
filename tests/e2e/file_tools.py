"""A test tool module: ``make_files`` attaches files of a given size (for the file limits)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from tools import ToolContext, tool


@tool(family="file_tools", files="count")
async def make_files(
    ctx: ToolContext,
    stem: Annotated[str, Field(pattern="^[a-z]{1,12}$")],
    count: Annotated[int, Field(ge=1, le=20)],
    kib: Annotated[int, Field(ge=1, le=30 * 1024)],
) -> str:
    """Make ``count`` files of ``kib`` KiB each.

    Args:
        stem: The files' name stem.
        count: How many files.
        kib: Each file's size in KiB.
    """
    for index in range(count):
        ctx.attach(
            f"{stem}-{index}.bin", bytes([index % 256]) * (kib * 1024), "application/octet-stream"
        )
    return f"made {count} files"


@tool(family="file_tools")
async def make_undeclared_files(
    ctx: ToolContext,
    count: Annotated[int, Field(ge=1, le=20)],
) -> str:
    """Make ``count`` 1 KiB files without declaring them (a tool that says nothing of its files).

    Args:
        count: How many files.
    """
    for index in range(count):
        ctx.attach(f"loose-{index}.bin", b"l" * 1024, "application/octet-stream")
    return f"made {count} files"
