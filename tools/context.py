"""What a tool knows about who called it and where; never shown to the model."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import aiohttp

from tools.deps import ToolDeps
from tools.permissions import Permissions

ProgressCallback = Callable[[str], Awaitable[None] | None]


def _empty_mapping() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Artifact:
    """A file a tool produced for the bot to attach to its reply (e.g. a generated image).

    Attributes:
        filename: Name shown in Discord, without any directory part.
        data: The file's bytes.
        content_type: MIME type, e.g. ``image/png``.
        description: Alt text / short description, if any.
        show_model: For an image: also show it to the model in its next round, when the model
            sees images (the default). False keeps it to the reply's attachments.
    """

    filename: str
    data: bytes
    content_type: str
    description: str | None = None
    show_model: bool = True

    @property
    def is_image(self) -> bool:
        """True for ``image/*`` files."""
        return self.content_type.lower().startswith("image/")


@dataclass(slots=True)
class ToolContext:
    """Who invoked a tool, where, and the typed dependencies the bot gives it.

    The dispatcher gives every call its own copy (see :meth:`for_call`): ``config`` then holds
    the settings of the tool's family, ``artifacts`` only that call's files, and ``call_id`` /
    ``tool_name`` name the call.

    Attributes:
        user_id: Discord id of the invoking user.
        user_name: Display name of the invoking user.
        channel_id: Channel (or thread / DM channel) id.
        guild_id: Guild id, None in DMs.
        is_owner: Whether the user owns the bot.
        member_permissions: The member's resolved permissions in the channel, None in DMs.
        member_top_role: Position of the member's highest role (0 in DMs).
        locale: The user's locale (e.g. ``en-US``), if known.
        http: Shared aiohttp session (None in some unit tests; tools then open their own).
        config: Settings of the running tool's family, e.g. weather base URLs.
        tool_settings: Settings of every tool family by family name; the dispatcher copies
            ``tool_settings[tool.family]`` into ``config`` for each call.
        deps: What the bot provides to tools (an OpenAI client, quotas, an approver...), typed:
            see :class:`~tools.deps.ToolDeps`.
        artifacts: Files produced by tools, for the bot to attach.
        conversation_id: Key of the conversation (ledger keys).
        turn_id: Key of the user turn within the conversation (ledger keys).
        call_id: Id of the tool call being run ("" outside a call).
        tool_name: Name of the tool being run ("" outside a call).
        on_progress: Optional callback receiving progress text from :meth:`report_progress`.
    """

    user_id: int
    user_name: str
    channel_id: int
    guild_id: int | None = None
    is_owner: bool = False
    member_permissions: Permissions | None = None
    member_top_role: int = 0
    locale: str | None = None
    http: aiohttp.ClientSession | None = None
    config: Mapping[str, Any] = field(default_factory=_empty_mapping)
    tool_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=_empty_mapping)
    deps: ToolDeps = field(default_factory=ToolDeps)
    artifacts: list[Artifact] = field(default_factory=list)
    conversation_id: str = ""
    turn_id: str = ""
    call_id: str = ""
    tool_name: str = ""
    on_progress: ProgressCallback | None = None

    @property
    def in_guild(self) -> bool:
        """True when the call happens in a guild (not a DM)."""
        return self.guild_id is not None

    def attach(
        self,
        filename: str,
        data: bytes,
        content_type: str,
        description: str | None = None,
        *,
        show_model: bool = True,
    ) -> Artifact:
        """Add a file for the bot to attach to its reply and return it.

        An image (``image/*``) is also shown to the model in its next round, when the model sees
        images, unless ``show_model`` is False.

        Raises:
            ValueError: If the filename is empty or contains a directory part.
        """
        if not filename or "/" in filename or "\\" in filename or filename in {".", ".."}:
            raise ValueError(
                f"Artifact filename {filename!r} must be a plain file name without directories."
            )
        artifact = Artifact(filename, bytes(data), content_type, description, show_model)
        self.artifacts.append(artifact)
        return artifact

    async def report_progress(self, text: str) -> None:
        """Tell the user what the tool is doing (calls ``on_progress`` if set)."""
        if self.on_progress is None:
            return
        result = self.on_progress(text)
        if inspect.isawaitable(result):
            await result

    def for_call(
        self,
        *,
        call_id: str,
        tool_name: str,
        family: str,
        on_progress: ProgressCallback | None,
    ) -> ToolContext:
        """A copy for one tool call with its own artifacts list and family config."""
        config = self.tool_settings.get(family, self.config)
        return replace(
            self,
            config=config,
            artifacts=[],
            call_id=call_id,
            tool_name=tool_name,
            on_progress=on_progress,
        )
