"""The commands the bot synced, as the page offers them, and form values back to option values.

A slash command with subcommands becomes one entry per leaf ("persona set"); message and user
context menus are listed apart, for the message menus of the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.testing.discord import Channel, DiscordEmulator, StoredAttachment
from bot.testing.discord.models import JsonDict

from .world import PlaygroundWorld

SLASH, USER_MENU, MESSAGE_MENU = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    3, 4, 5, 6, 7, 8, 9, 10, 11,
)  # fmt: skip
GUILD_CONTEXT, DM_CONTEXT = 0, 1
FIELD_PREFIX = "o_"


class OptionError(ValueError):
    """A command form value the user must fix; the message says which and how."""


@dataclass(frozen=True)
class Leaf:
    """One runnable slash command: ``name`` may hold a subcommand path ("persona set")."""

    name: str
    description: str
    options: tuple[JsonDict, ...]


def available_commands(
    emu: DiscordEmulator, world: PlaygroundWorld, channel: Channel
) -> list[JsonDict]:
    """Commands usable in ``channel``: guild commands first, then global ones allowed there."""
    found: dict[tuple[str, int], JsonDict] = {}
    context = DM_CONTEXT if channel.is_dm else GUILD_CONTEXT
    if not channel.is_dm:
        for command in emu.synced_commands(world.guild):
            found[_key(command)] = command
    for command in emu.synced_commands(None):
        contexts = command.get("contexts")
        if _key(command) not in found and (contexts is None or context in contexts):
            found[_key(command)] = command
    return sorted(found.values(), key=lambda command: str(command.get("name")))


def slash_leaves(commands: list[JsonDict]) -> list[Leaf]:
    """Every runnable slash command, subcommands spelled out."""
    leaves: list[Leaf] = []
    for command in commands:
        if int(command.get("type") or SLASH) == SLASH:
            leaves.extend(_leaves(str(command["name"]), command))
    return leaves


def menus(commands: list[JsonDict], kind: int) -> list[str]:
    """Names of the user (2) or message (3) context menus."""
    return [str(c["name"]) for c in commands if int(c.get("type") or SLASH) == kind]


def _leaves(prefix: str, command: JsonDict) -> list[Leaf]:
    options = command.get("options") or []
    nested = [o for o in options if int(o.get("type") or 0) in (SUB_COMMAND, SUB_COMMAND_GROUP)]
    if not nested:
        description = str(command.get("description") or "")
        return [Leaf(prefix, description, tuple(options))]
    leaves: list[Leaf] = []
    for option in nested:
        leaves.extend(_leaves(f"{prefix} {option['name']}", option))
    return leaves


def _key(command: JsonDict) -> tuple[str, int]:
    return str(command.get("name")), int(command.get("type") or SLASH)


def find_leaf(leaves: list[Leaf], name: str) -> Leaf:
    for leaf in leaves:
        if leaf.name == name:
            return leaf
    raise OptionError(f"/{name} is not a command the bot has synced here; reload the page.")


@dataclass(frozen=True)
class Upload:
    """A file from a form field."""

    filename: str
    data: bytes
    content_type: str | None


def option_values(
    leaf: Leaf,
    form: Mapping[str, str],
    uploads: Mapping[str, Upload],
    emu: DiscordEmulator,
    world: PlaygroundWorld,
) -> dict[str, Any]:
    """The options to inject for ``leaf`` from the submitted form (empty fields are left out).

    Raises:
        OptionError: a required option is empty or a value does not fit its type.
    """
    values: dict[str, Any] = {}
    for option in leaf.options:
        name = str(option["name"])
        field_name = FIELD_PREFIX + name
        kind = int(option.get("type") or STRING)
        if kind == ATTACHMENT:
            upload = uploads.get(field_name)
            if upload is not None and upload.data:
                values[name] = _attachment(emu, upload)
        elif str(form.get(field_name, "")).strip():
            values[name] = _convert(kind, str(form[field_name]).strip(), name, emu, world)
        if name not in values and option.get("required"):
            raise OptionError(f"/{leaf.name} needs a value for '{name}'; fill it in and run again.")
    return values


def _attachment(emu: DiscordEmulator, upload: Upload) -> StoredAttachment:
    return emu.attachment(upload.filename or "file.bin", upload.data, upload.content_type)


def _convert(kind: int, raw: str, name: str, emu: DiscordEmulator, world: PlaygroundWorld) -> Any:
    try:
        if kind == INTEGER:
            return int(raw)
        if kind == NUMBER:
            return float(raw)
        if kind == BOOLEAN:
            return raw.lower() in ("true", "yes", "1", "on")
        if kind in (USER, MENTIONABLE):
            return emu.user(int(raw))
        if kind == CHANNEL:
            return emu.channel(int(raw))
        if kind == ROLE:
            return world.guild.roles[int(raw)]
    except (ValueError, KeyError):
        raise OptionError(f"'{raw}' is not a valid value for '{name}'; pick another.") from None
    return raw
