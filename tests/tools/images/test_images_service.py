"""The shared generate() used by /imagine, the file helpers, and the tools under the dispatcher."""

from __future__ import annotations

import json
from collections.abc import Callable

import openai
import pytest

from bot.testing.openai import OpenAIEmulator
from tools import ToolContext
from tools.calls import ToolCall
from tools.dispatch import Dispatcher
from tools.images import ImageError, edit_image, generate, generate_image
from tools.images.files import content_type_of, png_header
from tools.ledger import InMemoryLedger
from tools.registry import ToolRegistry
from tools.schema import assert_strict_tool

from .conftest import rgba_png

GENERATIONS = "/v1/images/generations"
ImageContextFactory = Callable[..., ToolContext]


async def test_generate_returns_artifacts_for_imagine(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    artifacts = await generate(oai_client, {}, "a castle", size="1024x1536", quality="medium")

    (artifact,) = artifacts
    assert (artifact.filename, artifact.content_type) == ("image.png", "image/png")
    body = openai_emulator.images.requests[0]
    assert (body["size"], body["quality"], body["moderation"]) == ("1024x1536", "medium", "auto")


async def test_generate_rejects_values_the_api_does_not_take(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(ValueError, match="size must be one of"):
        await generate(oai_client, {}, "x", size="4096x4096", quality=None)
    with pytest.raises(ValueError, match="quality must be one of"):
        await generate(oai_client, {}, "x", size=None, quality="ultra")
    assert openai_emulator.requests == []


async def test_generate_reports_bad_settings_as_an_image_error(
    oai_client: openai.AsyncOpenAI,
) -> None:
    with pytest.raises(ImageError) as failed:
        await generate(oai_client, {"model": ""}, "x", size=None, quality=None)
    assert failed.value.kind == "misconfigured"


def test_the_tools_are_strict_side_effects_in_the_images_family() -> None:
    for item in (generate_image, edit_image):
        assert_strict_tool(item.openai_schema())
        assert item.side_effects and item.family == "images"
    registry = ToolRegistry()
    registry.load_module("tools.images")
    assert sorted(registry.names()) == ["edit_image", "generate_image"]


def _dispatcher(ctx: ToolContext, ledger: InMemoryLedger) -> Dispatcher:
    registry = ToolRegistry([generate_image, edit_image])
    return Dispatcher(registry, ctx, registry.names(), ledger=ledger)


async def test_the_ledger_stops_a_repeated_call_in_the_same_turn(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    ctx = image_ctx()
    ledger = InMemoryLedger()
    arguments = json.dumps({"prompt": "a fox", "size": None, "quality": None, "n": 1})

    first = await _dispatcher(ctx, ledger).run([ToolCall("call_1", "generate_image", arguments)])
    again = await _dispatcher(ctx, ledger).run([ToolCall("call_2", "generate_image", arguments)])

    assert first[0].status == "ok" and len(first[0].artifacts) == 1
    assert again[0].status == "skipped_duplicate"
    assert again[0].artifacts == []
    assert openai_emulator.attempts(GENERATIONS) == 1


@pytest.mark.parametrize(
    "arguments",
    [
        {"prompt": "x", "size": None, "quality": None, "n": 10},
        {"prompt": "x", "size": "4096x4096", "quality": None, "n": 1},
        {"prompt": "x", "size": None, "quality": "ultra", "n": 1},
        {"prompt": "", "size": None, "quality": None, "n": 1},
        {"prompt": "x", "size": None, "quality": None, "n": 0},
    ],
)
async def test_out_of_range_arguments_are_rejected_before_any_request(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory, arguments: dict[str, object]
) -> None:
    outcomes = await _dispatcher(image_ctx(), InMemoryLedger()).run(
        [ToolCall("call_1", "generate_image", json.dumps(arguments))]
    )

    assert outcomes[0].status == "invalid_arguments"
    assert openai_emulator.requests == []


def test_file_helpers_recognise_images_and_masks() -> None:
    assert content_type_of(b"\x89PNG\r\n\x1a\n" + bytes(30)) == "image/png"
    assert content_type_of(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert content_type_of(b"GIF89a...") == "image/gif"
    assert content_type_of(b"hello") is None
    header = png_header(rgba_png(5, 7))
    assert header is not None and (header.width, header.height, header.has_alpha) == (5, 7, True)
    assert png_header(b"not a png") is None
