"""generate_image: attachments, validation, no hidden retries, polite refusals, quotas."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from bot.policy import Refusal
from bot.testing.openai import Fault, ImageReply, OpenAIEmulator
from bot.testing.openai.media.png import solid_png
from tools import ToolContext, ToolFailed, ToolRetry
from tools.deps import ToolDeps
from tools.images import generate_image

GENERATIONS = "/v1/images/generations"
ImageContextFactory = Callable[..., ToolContext]


@dataclass
class FakeQuotas:
    """Records image charges; refuses once ``allowed`` images are spent."""

    allowed: int = 10
    charges: list[tuple[int, int | None, int]] = field(default_factory=list)
    refunds: list[tuple[int, int | None, int]] = field(default_factory=list)
    owners: list[bool] = field(default_factory=list)

    async def charge_images(
        self, user_id: int, guild_id: int | None, n: int, *, is_owner: bool = False
    ) -> Refusal | None:
        self.charges.append((user_id, guild_id, n))
        self.owners.append(is_owner)
        if n > self.allowed:
            return Refusal(
                "quota_images", "You have used your images for today (resets 00:00 UTC)."
            )
        self.allowed -= n
        return None

    async def refund_images(self, user_id: int, guild_id: int | None, n: int) -> None:
        self.refunds.append((user_id, guild_id, n))
        self.allowed += n


async def test_an_image_is_attached_and_the_model_gets_a_short_text(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    ctx = image_ctx()

    result = await generate_image(ctx, prompt="a  red fox in snow", size=None, quality=None, n=1)

    (artifact,) = ctx.artifacts
    assert artifact.content_type == "image/png"
    assert artifact.data.startswith(b"\x89PNG")
    assert artifact.filename == "image-123XYZ.png"
    assert artifact.description == "a red fox in snow"
    assert "attached to your reply" in result and "gpt-image-2" in result
    assert "base64" not in result and len(result) < 400
    (body,) = openai_emulator.images.requests
    assert body["model"] == "gpt-image-2"
    assert body["prompt"] == "a red fox in snow"
    assert (body["n"], body["size"], body["quality"]) == (1, "1024x1024", "auto")
    assert "response_format" not in body


async def test_size_quality_and_model_come_from_arguments_and_config(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    ctx = image_ctx(model="gpt-image-1.5", default_quality="low", max_n=4)

    await generate_image(ctx, prompt="a lighthouse", size="1536x1024", quality=None, n=2)

    body = openai_emulator.images.requests[0]
    assert (body["model"], body["size"], body["quality"], body["n"]) == (
        "gpt-image-1.5",
        "1536x1024",
        "low",
        2,
    )
    assert [a.filename for a in ctx.artifacts] == ["image-123XYZ-1.png", "image-123XYZ-2.png"]


async def test_n_above_the_configured_cap_is_lowered_and_said(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    ctx = image_ctx(max_n=1)

    result = await generate_image(ctx, prompt="three cats", size=None, quality=None, n=3)

    assert openai_emulator.images.requests[0]["n"] == 1
    assert len(ctx.artifacts) == 1
    assert "Only 1 could be made" in result


async def test_the_revised_prompt_is_passed_to_the_model(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    openai_emulator.images.reply(ImageReply(revised_prompt="A fox, watercolour"))

    result = await generate_image(image_ctx(), prompt="fox", size=None, quality=None, n=1)

    assert "revised the prompt to: A fox, watercolour" in result


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.content_policy_violation(), "declined this request under its content policy"),
        (Fault.outage(500), "had a problem"),
        (Fault.outage(503), "had a problem"),
        (Fault.rate_limit(retry_after=0.01), "busy"),
        (Fault.insufficient_quota(), "not available"),
        (Fault.invalid_api_key(), "not available"),
    ],
)
async def test_failures_are_polite_and_never_retried(
    openai_emulator: OpenAIEmulator,
    image_ctx: ImageContextFactory,
    fault: Fault,
    expected: str,
) -> None:
    openai_emulator.images.reply_fault(fault)
    ctx = image_ctx()

    with pytest.raises(ToolFailed) as failed:
        await generate_image(ctx, prompt="anything", size=None, quality=None, n=1)

    assert expected in failed.value.message
    assert openai_emulator.attempts(GENERATIONS) == 1, "a retry could bill twice"
    assert ctx.artifacts == []


async def test_a_slow_image_service_times_out_once_with_an_unknown_outcome(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    openai_emulator.images.reply(ImageReply(latency=3.0))

    with pytest.raises(ToolFailed) as failed:
        await generate_image(image_ctx(timeout_s=0.3), prompt="x", size=None, quality=None, n=1)

    assert "may or may not have been made" in failed.value.message
    assert openai_emulator.attempts(GENERATIONS) == 1


async def test_an_answer_without_usable_images_is_a_failure(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    openai_emulator.images.reply(ImageReply(images=[b"<html>not an image</html>"]))

    with pytest.raises(ToolFailed, match="without an image"):
        await generate_image(image_ctx(), prompt="x", size=None, quality=None, n=1)


async def test_the_quota_is_charged_to_the_invoker_before_the_request(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    quotas = FakeQuotas(allowed=1)
    ctx = image_ctx(services={"quotas": quotas}, max_n=4)

    await generate_image(ctx, prompt="one", size=None, quality=None, n=1)
    with pytest.raises(ToolFailed) as refused:
        await generate_image(ctx, prompt="two more", size=None, quality=None, n=2)

    assert quotas.charges == [(1001, 3003, 1), (1001, 3003, 2)]
    assert "resets 00:00 UTC" in refused.value.message
    assert openai_emulator.attempts(GENERATIONS) == 1


async def test_without_the_openai_service_the_tool_says_it_is_not_set_up(
    image_ctx: ImageContextFactory,
) -> None:
    ctx = image_ctx()
    ctx.deps = ToolDeps()

    with pytest.raises(ToolFailed, match="not set up"):
        await generate_image(ctx, prompt="x", size=None, quality=None, n=1)


async def test_bad_settings_name_the_setting(image_ctx: ImageContextFactory) -> None:
    with pytest.raises(ToolFailed, match=r"max_n.*\[tools.config.images\]"):
        await generate_image(image_ctx(max_n=9), prompt="x", size=None, quality=None, n=1)


async def test_a_blank_prompt_is_sent_back_to_the_model(image_ctx: ImageContextFactory) -> None:
    with pytest.raises(ToolRetry, match="blank"):
        await generate_image(image_ctx(), prompt="   ", size=None, quality=None, n=1)


async def test_images_in_other_formats_keep_their_type(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)
    openai_emulator.images.reply(ImageReply(images=[jpeg, solid_png(4, 4)]))
    ctx = image_ctx(max_n=2)

    await generate_image(ctx, prompt="x", size=None, quality=None, n=2)

    assert [(a.filename, a.content_type) for a in ctx.artifacts] == [
        ("image-123XYZ-1.jpg", "image/jpeg"),
        ("image-123XYZ-2.png", "image/png"),
    ]
    assert base64.b64encode(ctx.artifacts[0].data)
    assert json.dumps(openai_emulator.images.requests[0])


@pytest.mark.parametrize(
    ("fault", "refunded"),
    [
        (Fault.outage(503), True),
        (Fault.rate_limit(retry_after=0.01), True),
        (Fault.content_policy_violation(), False),
    ],
)
async def test_a_failed_request_gives_the_quota_back_unless_it_was_refused(
    openai_emulator: OpenAIEmulator,
    image_ctx: ImageContextFactory,
    fault: Fault,
    refunded: bool,
) -> None:
    openai_emulator.images.reply_fault(fault)
    quotas = FakeQuotas(allowed=5)
    ctx = image_ctx(services={"quotas": quotas})
    ctx.is_owner = True

    with pytest.raises(ToolFailed):
        await generate_image(ctx, prompt="x", size=None, quality=None, n=1)

    assert quotas.owners == [True]
    assert quotas.refunds == ([(1001, 3003, 1)] if refunded else [])
