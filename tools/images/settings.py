"""The ``images`` tool family's settings (``[tools.config.images]``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.errors import ToolFailed

Size = Literal["auto", "1024x1024", "1536x1024", "1024x1536"]
Quality = Literal["auto", "low", "medium", "high"]
SIZES: tuple[str, ...] = ("auto", "1024x1024", "1536x1024", "1024x1536")
QUALITIES: tuple[str, ...] = ("auto", "low", "medium", "high")


class ImagesSettings(BaseModel):
    """Settings of ``generate_image``, ``edit_image`` and ``/imagine``.

    Attributes:
        model: The GPT image model (they always return base64); the bot passes
            ``openai.image_model`` here, so it is not set under ``[tools.config.images]``.
        max_n: Most images one call may make (1-4); a larger ``n`` is lowered to it.
        default_size: Size used when the caller gives none.
        default_quality: Quality used when the caller gives none.
        timeout_s: Time allowed for one image request (no retries: a retry could bill twice).
        moderation: The image API's own moderation strictness, "auto" or "low".
        output_format: File format of the generated images.
        max_prompt_chars: Longest prompt passed on.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    model: str = Field("gpt-image-2", min_length=1)
    max_n: int = Field(1, ge=1, le=4)
    default_size: Size = "1024x1024"
    default_quality: Quality = "auto"
    timeout_s: float = Field(100.0, gt=0, le=300)
    moderation: Literal["auto", "low"] = "auto"
    output_format: Literal["png", "jpeg", "webp"] = "png"
    max_prompt_chars: int = Field(4000, ge=100, le=32_000)


def load_settings(config: Mapping[str, Any]) -> ImagesSettings:
    """The family's settings from ``ctx.config`` (or any mapping).

    Raises:
        ToolFailed: Naming the bad setting, for the bot owner to fix.
    """
    try:
        return ImagesSettings.model_validate(dict(config))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise ToolFailed(
            f"Image generation is misconfigured ({problems}); the bot owner must fix "
            "[tools.config.images]. Tell the user images are unavailable right now."
        ) from None
