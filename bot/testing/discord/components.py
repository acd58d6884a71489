"""Component interactions: a user clicks a button (or picks from a select) on a bot message.

``emu.click(message, user="alice", label="Confirm")`` finds the component on the stored message,
dispatches INTERACTION_CREATE (type 3, ``data.custom_id`` / ``component_type``, the full
``message``) and returns an :class:`InteractionHandle`. The bot may answer with callback type 4
(a new message), 6 (deferred update: acknowledge only) or 7 (update: edit the clicked message);
``@original`` webhook edits then change the clicked message, as on Discord.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from typing import Any

from bot.testing.discord.context import EmulatorContext
from bot.testing.discord.interaction_payloads import InteractionRequest, interaction_payload
from bot.testing.discord.interactions import InteractionHandle
from bot.testing.discord.models import JsonDict, StoredMessage, User

COMPONENT_INTERACTION = 3
ACTION_ROW, BUTTON = 1, 2
SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
LINK_STYLE = 5


def iter_components(message: StoredMessage) -> Iterator[JsonDict]:
    """Every interactive component of a message (inside action rows), in order."""
    for row in message.components:
        children = row.get("components") if row.get("type") == ACTION_ROW else [row]
        for component in children or []:
            if isinstance(component, dict) and component.get("type") != ACTION_ROW:
                yield component


def find_component(
    message: StoredMessage, *, custom_id: str | None = None, label: str | None = None
) -> JsonDict:
    """The component with ``custom_id`` (or ``label``); LookupError listing what exists."""
    if custom_id is None and label is None:
        raise ValueError("name the component to click: pass custom_id= or label=")
    found = list(iter_components(message))
    for component in found:
        if custom_id is not None and component.get("custom_id") == custom_id:
            return component
        if custom_id is None and component.get("label") == label:
            return component
    listed = [(c.get("label"), c.get("custom_id")) for c in found]
    raise LookupError(
        f"message {message.id} has no component {custom_id or label!r}; it has {listed}"
    )


def click(
    ctx: EmulatorContext,
    message: StoredMessage,
    user: User,
    component: JsonDict,
    *,
    values: Sequence[str] = (),
    permissions: int | None = None,
    locale: str = "en-US",
) -> InteractionHandle:
    """Dispatch the INTERACTION_CREATE of ``user`` using ``component`` on ``message``."""
    _check_clickable(message, component)
    channel = ctx.world.channel(message.channel_id)
    request = InteractionRequest(
        name=str(component.get("custom_id")),
        user=user,
        channel=channel,
        command={},
        command_type=0,
        permissions=permissions,
        locale=locale,
    )
    interaction_id = ctx.world.snowflakes.next()
    token = "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48)
    payload = interaction_payload(
        ctx.world, request, _data(component, values), interaction_id=interaction_id, token=token
    )
    payload["type"] = COMPONENT_INTERACTION
    payload["message"] = ctx.messages.payload(message)
    handle = InteractionHandle(request, payload, ctx.signal)
    handle.original = message
    handle.clicked = message
    ctx.interactions.handles[token] = handle
    ctx.hub.dispatch("INTERACTION_CREATE", payload, guild_id=channel.guild_id)
    return handle


def _check_clickable(message: StoredMessage, component: JsonDict) -> None:
    if message.deleted_at is not None:
        raise ValueError(f"message {message.id} was deleted; nobody can click on it")
    if component.get("disabled"):
        raise ValueError(f"component {component.get('custom_id')!r} is disabled")
    if component.get("style") == LINK_STYLE or not component.get("custom_id"):
        raise ValueError("link buttons open a URL; they send no interaction")


def _data(component: JsonDict, values: Sequence[str]) -> JsonDict:
    kind = int(component.get("type") or BUTTON)
    data: dict[str, Any] = {"custom_id": component["custom_id"], "component_type": kind}
    if kind in SELECT_TYPES:
        data["values"] = list(values)
    return data
