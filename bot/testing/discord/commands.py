"""Application commands as the bot synced them (bulk overwrite), with stable ids."""

from __future__ import annotations

import re
from typing import Any

from bot.testing.discord.models import JsonDict
from bot.testing.discord.rest_common import RestError, field_error, form_error
from bot.testing.discord.snowflake import SnowflakeFactory

_NAME = re.compile(r"^[-_\w]{1,32}$")
CommandKey = tuple[str, int]


class CommandRegistry:
    """Global commands and per-guild commands, keyed by ``(name, type)``."""

    def __init__(self, snowflakes: SnowflakeFactory, application_id: int) -> None:
        self._snowflakes = snowflakes
        self._application_id = application_id
        self.global_commands: dict[CommandKey, JsonDict] = {}
        self.guild_commands: dict[int, dict[CommandKey, JsonDict]] = {}
        self.sync_count = 0
        self._ids: dict[tuple[int | None, str, int], int] = {}

    def bulk_overwrite(self, guild_id: int | None, commands: Any) -> list[JsonDict]:
        """Replaces the command set; raises RestError (50035) for invalid commands."""
        if not isinstance(commands, list):
            raise RestError(
                form_error(
                    {"_errors": [{"code": "BASE_TYPE_ARRAY", "message": "Must be an array."}]}
                )
            )
        _validate(commands)
        stored = {_key(command): self._stored(guild_id, command) for command in commands}
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        self.sync_count += 1
        return list(stored.values())

    def upsert(self, guild_id: int | None, command: Any) -> JsonDict:
        """Creates or replaces one command (``POST .../commands``)."""
        _validate([command])
        stored = self._stored(guild_id, command)
        target = (
            self.global_commands
            if guild_id is None
            else self.guild_commands.setdefault(guild_id, {})
        )
        target[_key(command)] = stored
        return stored

    def listed(self, guild_id: int | None) -> list[JsonDict]:
        source = self.global_commands if guild_id is None else self.guild_commands.get(guild_id, {})
        return list(source.values())

    def find(self, name: str, command_type: int, guild_id: int | None) -> JsonDict | None:
        """A guild command first (as Discord shows it in that guild), else a global one."""
        if guild_id is not None:
            found = self.guild_commands.get(guild_id, {}).get((name, command_type))
            if found is not None:
                return found
        return self.global_commands.get((name, command_type))

    def names(self) -> list[str]:
        everything = [*self.global_commands, *(k for g in self.guild_commands.values() for k in g)]
        return sorted({name for name, _ in everything})

    def _stored(self, guild_id: int | None, command: JsonDict) -> JsonDict:
        name, command_type = _key(command)
        id_key = (guild_id, name, command_type)
        command_id = self._ids.setdefault(id_key, self._snowflakes.next())
        stored: JsonDict = {
            "default_member_permissions": None,
            "nsfw": False,
            "contexts": None,
            "integration_types": [0],
            **command,
            "id": str(command_id),
            "application_id": str(self._application_id),
            "version": str(self._snowflakes.next()),
            "type": command_type,
            "description": command.get("description") or "",
            "options": [_option(o) for o in command.get("options") or []],
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored


def _key(command: JsonDict) -> CommandKey:
    return str(command.get("name")), int(command.get("type") or 1)


def _option(option: JsonDict) -> JsonDict:
    nested = [_option(o) for o in option.get("options") or []]
    result = {**option, "description": option.get("description") or ""}
    if nested:
        result["options"] = nested
    return result


def _validate(commands: list[Any]) -> None:
    errors: dict[str, Any] = {}
    seen: set[CommandKey] = set()
    for index, command in enumerate(commands):
        problem = _command_problem(command, seen)
        if problem:
            errors[str(index)] = problem
    if errors:
        raise RestError(form_error(errors))


def _command_problem(command: Any, seen: set[CommandKey]) -> dict[str, Any] | None:
    if not isinstance(command, dict):
        return field_error("DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
    name, command_type = _key(command)
    if command_type == 1 and (not _NAME.match(name) or name != name.lower()):
        return {"name": field_error("APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")}
    if command_type == 1 and not 1 <= len(command.get("description") or "") <= 100:
        return {
            "description": field_error(
                "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
            )
        }
    if (name, command_type) in seen:
        return {
            "name": field_error(
                "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        }
    seen.add((name, command_type))
    return None
