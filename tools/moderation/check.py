"""The ``check_moderation`` tool: ask the moderation endpoint about a text or an attached image."""

from __future__ import annotations

import logging
from typing import Annotated

import openai
from pydantic import Field

from tools.context import Artifact, ToolContext
from tools.definition import tool
from tools.errors import ToolFailed, ToolRetry
from tools.moderation.endpoint import ModerationVerdict, image_data_url, moderate
from tools.moderation.settings import load_settings

log = logging.getLogger("toolcord.tools.moderation")

SHOWN_SCORES = 3
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


@tool(family="moderation", timeout=30.0, progress="Checking with the moderation service...")
async def check_moderation(
    ctx: ToolContext,
    text: Annotated[str, Field(max_length=20_000)] = "",
    attached_image: bool = False,
) -> str:
    """Check a text and/or the image attached to the user's message with OpenAI's moderation.

    Returns whether it is flagged and the categories with their scores (0 to 1). Use it when
    the user asks whether something breaks content rules; it decides nothing by itself.

    Args:
        text: The text to check, quoted exactly; empty to check only the image.
        attached_image: true to also check the first image attached to the user's message.
    """
    settings = load_settings(ctx.config)
    client = ctx.deps.openai
    if not isinstance(client, openai.AsyncOpenAI):
        raise ToolFailed(
            "Moderation is not set up: the bot has no OpenAI client for tools (the bot owner "
            "must inject the 'openai' service)."
        )
    images = [_first_image(ctx)] if attached_image else []
    if not text.strip() and not images:
        raise ToolRetry("Pass the text to check, or set attached_image to true.")
    try:
        verdict = await moderate(
            client.with_options(timeout=settings.timeout_s),
            settings.model,
            text=text,
            image_urls=images,
        )
    except openai.OpenAIError as error:
        log.warning("the moderation check failed: %s", type(error).__name__)
        raise ToolFailed(
            "The moderation service could not be reached. Tell the user to try later."
        ) from None
    return describe(verdict, checked="the text and the image" if images and text else None)


def _first_image(ctx: ToolContext) -> str:
    for file in ctx.deps.input_files:
        if isinstance(file, Artifact):
            kind = _content_type(file.data)
            if kind is not None:
                return image_data_url(file.data, kind)
    raise ToolFailed(
        "The user's message has no image attached; ask the user to attach the image to check."
    )


def _content_type(data: bytes) -> str | None:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _IMAGE_MAGIC if data.startswith(magic)), None)


def describe(verdict: ModerationVerdict, checked: str | None = None) -> str:
    """A short, model-readable summary of a verdict."""
    subject = checked or "the content"
    flagged = verdict.over()
    top = sorted(verdict.scores.items(), key=lambda item: -item[1])[:SHOWN_SCORES]
    scores = ", ".join(f"{name} {score:.2f}" for name, score in top)
    if not flagged:
        return f"Not flagged: {subject} breaks no moderation category. Highest scores: {scores}."
    return (
        f"Flagged: {subject} falls under {', '.join(flagged)}. Highest scores: {scores}. "
        "This is an automated judgement; a moderator decides what to do."
    )
