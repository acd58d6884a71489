"""Every permission flag row by row against discord.py's layout (see docs/mutation.md).

Mutation tools do not mutate module-level data, so the flag table is checked name by name
against the library Discord's own client uses.
"""

from __future__ import annotations

import re

import discord
import pytest

from tools import Permissions
from tools.permissions import _flags

NAMES = sorted(Permissions.FLAGS)


def test_the_table_names_exactly_discord_py_s_flags() -> None:
    assert set(Permissions.FLAGS) == set(discord.Permissions.VALID_FLAGS)


@pytest.mark.parametrize("name", NAMES)
def test_each_flag_has_discord_s_bit(name: str) -> None:
    assert Permissions.flag(name) == discord.Permissions(**{name: True}).value
    assert Permissions.from_names(name).names() >= {name}


def test_all_is_every_bit_discord_knows() -> None:
    assert Permissions.all().value == discord.Permissions.all().value


def test_from_names_ors_the_bits() -> None:
    perms = Permissions.from_names("kick_members", "ban_members", "kick_members")

    assert perms.value == 0b110
    assert Permissions.from_names().value == 0


def test_names_lists_every_granted_name_with_its_aliases() -> None:
    perms = Permissions.from_names("view_channel", "manage_roles")

    assert perms.names() == {"view_channel", "read_messages", "manage_roles", "manage_permissions"}
    assert Permissions().names() == frozenset()
    assert Permissions.from_names("administrator").names() == frozenset(Permissions.FLAGS)


def test_has_needs_every_name_and_missing_lists_the_rest_in_order() -> None:
    perms = Permissions.from_names("kick_members")

    assert perms.has("kick_members") is True
    assert perms.has("kick_members", "ban_members") is False
    assert perms.has("ban_members", "kick_members") is False
    assert perms.missing("moderate_members", "kick_members", "ban_members") == (
        "moderate_members",
        "ban_members",
    )


UNKNOWN = re.escape(
    "Unknown permission name 'fly'; use one of Discord's names such as 'administrator', "
    "'manage_messages', 'moderate_members', 'kick_members'."
)


def test_unknown_names_are_refused_with_the_valid_names() -> None:
    with pytest.raises(ValueError, match=f"^{UNKNOWN}$"):
        Permissions.flag("fly")
    with pytest.raises(ValueError, match=f"^{UNKNOWN}$"):
        Permissions.check_names(["kick_members", "fly"])
    with pytest.raises(ValueError, match=f"^{UNKNOWN}$"):
        Permissions.from_names("administrator").has("kick_members", "fly")
    with pytest.raises(ValueError, match=f"^{UNKNOWN}$"):
        Permissions.from_names("fly")
    Permissions.check_names(["kick_members", "ban_members"])


def test_the_table_builder_gives_discord_s_bits() -> None:
    # Called directly (not only at import) so that mutation testing exercises it.
    expected = {name: discord.Permissions(**{name: True}).value for name in NAMES}

    assert dict(_flags()) == expected
