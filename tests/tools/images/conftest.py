"""Fixtures for the image tool tests: a real OpenAI client on the emulator, contexts, PNGs."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import openai
import pytest

from bot.testing.openai import OpenAIEmulator
from tools import Artifact, ToolContext
from tools.deps import ToolDeps

ImageContextFactory = Callable[..., ToolContext]


def rgba_png(width: int = 8, height: int = 8, alpha: int = 0) -> bytes:
    """A real RGBA PNG (colour type 6), e.g. a mask that is transparent everywhere."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    row = b"\x00" + bytes((10, 20, 30, alpha)) * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def attachment(data: bytes, name: str = "photo.png", kind: str = "image/png") -> Artifact:
    """An attachment as the chat cog hands it to tools."""
    return Artifact(name, data, kind)


@pytest.fixture
async def oai_client(openai_emulator: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    """A real client with the SDK's default retries: the tools must switch them off."""
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=openai_emulator.base_url, max_retries=2)
    yield client
    await client.close()


@pytest.fixture
def image_ctx(oai_client: openai.AsyncOpenAI) -> ImageContextFactory:
    """A guild member's ToolContext with the OpenAI service; keywords set config and services."""

    def build(services: dict[str, Any] | None = None, **config: Any) -> ToolContext:
        return ToolContext(
            user_id=1001,
            user_name="alice",
            channel_id=2002,
            guild_id=3003,
            config=config,
            tool_settings={"images": config},
            deps=ToolDeps(**{"openai": oai_client, **(services or {})}),
            conversation_id="conv-1",
            turn_id="turn-1",
            call_id="call_abc123XYZ",
        )

    return build
