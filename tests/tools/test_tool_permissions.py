"""The Discord-free Permissions bit set."""

from __future__ import annotations

import pytest

from tools import Permissions


def test_bits_match_discord_layout() -> None:
    assert Permissions.flag("kick_members") == 1 << 1
    assert Permissions.flag("administrator") == 1 << 3
    assert Permissions.flag("manage_messages") == 1 << 13
    assert Permissions.flag("moderate_members") == 1 << 40
    assert Permissions.flag("view_channel") == Permissions.flag("read_messages")


def test_has_and_missing() -> None:
    perms = Permissions.from_names("kick_members", "manage_messages")
    assert perms.has("kick_members")
    assert perms.has("kick_members", "manage_messages")
    assert not perms.has("kick_members", "ban_members")
    assert perms.missing("ban_members", "kick_members") == ("ban_members",)
    assert Permissions().has() is True
    assert Permissions(perms.value) == perms


def test_administrator_implies_everything() -> None:
    admin = Permissions.from_names("administrator")
    assert admin.has("ban_members", "moderate_members", "manage_guild")
    assert admin.missing("ban_members") == ()
    assert "ban_members" in admin.names()
    assert Permissions.all().has("bypass_slowmode")


def test_unknown_names_are_errors() -> None:
    with pytest.raises(ValueError, match="Unknown permission name 'fly'"):
        Permissions().has("fly")
    with pytest.raises(ValueError, match="fly"):
        Permissions.from_names("administrator").has("fly")
