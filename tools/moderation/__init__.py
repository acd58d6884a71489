"""The ``moderation`` tool family: ``check_moderation``, ``delete_message``, ``timeout_member``.

Load it with ``tools.modules = ["tools.moderation"]``; settings live under
``[tools.config.moderation]``. The action tools need the ``"moderation_actions"`` service (see
:mod:`tools.moderation.actions`); :func:`moderate` is shared with the bot's moderation policy.
"""

from tools.moderation.actions import (
    MODERATION_APPROVAL,
    ActionKind,
    ActionRefused,
    ActionRequest,
    ModerationActionService,
    delete_message,
    timeout_member,
)
from tools.moderation.check import check_moderation, describe
from tools.moderation.endpoint import (
    DEFAULT_MODEL,
    ModerationVerdict,
    image_data_url,
    moderate,
    supports_images,
)
from tools.moderation.settings import ModerationToolSettings, load_settings

__all__ = [
    "DEFAULT_MODEL",
    "MODERATION_APPROVAL",
    "ActionKind",
    "ActionRefused",
    "ActionRequest",
    "ModerationActionService",
    "ModerationToolSettings",
    "ModerationVerdict",
    "check_moderation",
    "delete_message",
    "describe",
    "image_data_url",
    "load_settings",
    "moderate",
    "supports_images",
    "timeout_member",
]
