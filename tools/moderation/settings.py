"""The ``moderation`` tool family's settings (``[tools.config.moderation]``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tools.errors import ToolFailed
from tools.moderation.endpoint import DEFAULT_MODEL

MAX_TIMEOUT_MINUTES = 28 * 24 * 60


class ModerationToolSettings(BaseModel):
    """Settings of ``check_moderation``, ``delete_message`` and ``timeout_member``.

    Attributes:
        model: The moderation model (omni models also judge images); the bot passes
            ``openai.moderation_model`` here, so it is not set under ``[tools.config.moderation]``.
        timeout_s: Time allowed for one moderation request.
        max_timeout_minutes: Longest time-out ``timeout_member`` may ask for (Discord: 28 days).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    model: str = Field(DEFAULT_MODEL, min_length=1)
    timeout_s: float = Field(15.0, gt=0, le=60)
    max_timeout_minutes: int = Field(MAX_TIMEOUT_MINUTES, ge=1, le=MAX_TIMEOUT_MINUTES)


def load_settings(config: Mapping[str, Any]) -> ModerationToolSettings:
    """The family's settings from ``ctx.config``.

    Raises:
        ToolFailed: Naming the bad setting, for the bot owner to fix.
    """
    try:
        return ModerationToolSettings.model_validate(dict(config))
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise ToolFailed(
            f"The moderation tools are misconfigured ({problems}); the bot owner must fix "
            "[tools.config.moderation]."
        ) from None
