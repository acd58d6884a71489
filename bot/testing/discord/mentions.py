"""Mentions in message content, and who really gets pinged under ``allowed_mentions``."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

_USER = re.compile(r"<@!?(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_EVERYONE = re.compile(r"@(everyone|here)\b")


@dataclasses.dataclass(frozen=True)
class Mentions:
    user_ids: list[int]
    role_ids: list[int]
    everyone: bool


def parse_mentions(content: str) -> Mentions:
    """Users, roles and @everyone/@here written in ``content``."""
    if "@" not in content:
        return Mentions([], [], False)
    return Mentions(
        user_ids=_unique(int(m) for m in _USER.findall(content)),
        role_ids=_unique(int(m) for m in _ROLE.findall(content)),
        everyone=_EVERYONE.search(content) is not None,
    )


def pinged(
    content: str,
    allowed: dict[str, Any] | None,
    *,
    replied_user_id: int | None,
    may_mention_everyone: Callable[[], bool],
) -> Mentions:
    """The mentions that ping, after ``allowed_mentions`` (absent = everything allowed)."""
    if "@" not in content and replied_user_id is None:
        return Mentions([], [], False)
    written = parse_mentions(content)
    if allowed is None:
        parse, users, roles, replied = {"users", "roles", "everyone"}, set(), set(), True
    else:
        parse = set(allowed.get("parse") or [])
        users = {int(u) for u in allowed.get("users") or []}
        roles = {int(r) for r in allowed.get("roles") or []}
        replied = bool(allowed.get("replied_user", False))
    user_ids = [u for u in written.user_ids if "users" in parse or u in users]
    if replied and replied_user_id is not None and replied_user_id not in user_ids:
        user_ids.append(replied_user_id)
    role_ids = [r for r in written.role_ids if "roles" in parse or r in roles]
    everyone = written.everyone and "everyone" in parse and may_mention_everyone()
    return Mentions(user_ids, role_ids, everyone)


def _unique(values: Any) -> list[int]:
    return list(dict.fromkeys(values))
