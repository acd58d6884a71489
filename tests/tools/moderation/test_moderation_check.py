"""The moderation endpoint helper and the check_moderation tool, on the OpenAI emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest

from bot.testing.openai import Fault, ModerationReply, OpenAIEmulator
from bot.testing.openai.media.png import solid_png
from tools import Artifact, ToolContext, ToolFailed, ToolRetry
from tools.deps import ToolDeps
from tools.moderation import ModerationVerdict, check_moderation, moderate
from tools.schema import assert_strict_tool


@pytest.fixture
async def oai_client(openai_emulator: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=openai_emulator.base_url, max_retries=0)
    yield client
    await client.close()


def _ctx(client: openai.AsyncOpenAI, files: list[Artifact] | None = None) -> ToolContext:
    return ToolContext(
        user_id=1,
        user_name="alice",
        channel_id=2,
        guild_id=3,
        deps=ToolDeps(openai=client, input_files=files or []),
    )


def test_thresholds_override_the_endpoint_flag_per_category() -> None:
    verdict = ModerationVerdict(
        flagged=True,
        categories={"harassment": True, "violence": False, "hate": False},
        scores={"harassment": 0.6, "violence": 0.4, "hate": 0.01},
    )

    assert verdict.over() == ["harassment"]
    assert verdict.over({"violence": 0.3}) == ["harassment", "violence"]
    assert verdict.over({"harassment": 0.9}) == []
    assert verdict.over({"harassment": 0.5, "hate": 0.0}) == ["harassment", "hate"]


async def test_moderate_reads_categories_by_their_api_names(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    openai_emulator.moderations.reply(ModerationReply(["harassment/threatening"]))

    verdict = await moderate(oai_client, "omni-moderation-latest", text="I will find you")

    assert verdict.flagged
    assert verdict.over() == ["harassment/threatening"]
    assert verdict.scores["harassment/threatening"] == pytest.approx(0.9)
    body = openai_emulator.moderations.requests[0]
    assert body == {"model": "omni-moderation-latest", "input": "I will find you"}


async def test_images_go_with_the_text_only_to_omni_models(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    url = "data:image/png;base64,AAAA"

    await moderate(oai_client, "omni-moderation-latest", text="look", image_urls=[url])
    await moderate(oai_client, "text-moderation-latest", text="look", image_urls=[url])

    first, second = openai_emulator.moderations.requests
    assert first["input"] == [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": url}},
    ]
    assert second["input"] == "look"


async def test_the_tool_reports_flags_and_top_scores(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    openai_emulator.moderations.reply(ModerationReply(["violence"], scores={"violence": 0.77}))

    result = await check_moderation(_ctx(oai_client), text="something violent")

    assert result.startswith("Flagged: the content falls under violence.")
    assert "violence 0.77" in result


async def test_the_tool_checks_the_attached_image(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    files = [Artifact("p.png", solid_png(4, 4), "image/png")]

    result = await check_moderation(_ctx(oai_client, files), text="", attached_image=True)

    assert result.startswith("Not flagged")
    (part,) = openai_emulator.moderations.requests[0]["input"]
    assert part["type"] == "image_url"
    assert part["image_url"]["url"].startswith("data:image/png;base64,iVBOR")


async def test_the_tool_needs_something_to_check(oai_client: openai.AsyncOpenAI) -> None:
    with pytest.raises(ToolRetry):
        await check_moderation(_ctx(oai_client), text="  ")
    with pytest.raises(ToolFailed, match="no image attached"):
        await check_moderation(_ctx(oai_client), text="", attached_image=True)


async def test_an_endpoint_failure_is_a_tool_failure(
    openai_emulator: OpenAIEmulator, oai_client: openai.AsyncOpenAI
) -> None:
    openai_emulator.moderations.reply_fault(Fault.outage(503))

    with pytest.raises(ToolFailed, match="could not be reached"):
        await check_moderation(_ctx(oai_client), text="hello")


def test_the_tool_is_strict_and_harmless() -> None:
    assert_strict_tool(check_moderation.openai_schema())
    assert not check_moderation.side_effects and not check_moderation.required_permissions
