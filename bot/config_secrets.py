"""Find secrets in configuration-file data: they belong in the environment or ``.env``.

A key is secret-shaped when its name is or ends in a credential word (``token``,
``api_key``, ``secret``, ``password``, ...; ``max_tokens`` is not one). A string value holds
a password when it is a URL with a password (``postgresql://bot:pw@db/x``, a proxy URL) or
a libpq key=value DSN with ``password=``. Both are found at any depth of the TOML data.
A value ``env:NAME`` names the environment variable that holds the secret (MCP server headers
and env use it) and holds none itself, so it is allowed under a secret-shaped key.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECRET_WORDS = (
    "token", "secret", "password", "passwd", "passphrase", "api_key", "apikey",
    "private_key", "access_key", "secret_key", "signing_key", "credentials",
    "authorization", "bearer",
)  # fmt: skip
WELL_KNOWN_ENV = {"discord_token": "DISCORD_TOKEN", "openai_api_key": "OPENAI_API_KEY"}
ENV_REFERENCE = re.compile(r"env:[A-Za-z_][A-Za-z0-9_]*")
_CONNINFO_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*\S", re.IGNORECASE)
Path = tuple[str | int, ...]


def secret_problems(data: Mapping[str, Any], source: str) -> list[str]:
    """One sentence per secret found in ``data`` (read from ``source``), naming its env var."""
    problems: list[str] = []
    for path, value in _leaves(data, ()):
        if str(path[0]).lower() in WELL_KNOWN_ENV:  # the source hands these over by alias
            path = (str(path[0]).lower(), *path[1:])
        name = str(path[-1]).lower()
        key = _dotted(path)
        if isinstance(value, str) and ENV_REFERENCE.fullmatch(value):
            continue  # a reference to the environment, not a secret
        if is_secret_name(name):
            problems.append(
                f"{key} must not be in the config file {source}: remove it and set "
                f"{env_name(path)} in the environment or .env instead."
            )
        elif isinstance(value, str) and holds_password(value):
            problems.append(
                f"{key} holds a password and must not be in the config file {source}: remove "
                f"it and set {env_name(path)} in the environment or .env instead."
            )
    return problems


def is_secret_name(name: str) -> bool:
    """True when the setting's name says it holds a credential."""
    normal = name.lower().replace("-", "_")
    return any(normal == word or normal.endswith("_" + word) for word in SECRET_WORDS)


def holds_password(value: str) -> bool:
    """True for a URL or DSN that carries a password."""
    if _CONNINFO_PASSWORD.search(value):
        return True
    if "://" not in value:
        return False
    try:
        parts = urlsplit(value.strip())
        password = parts.password
    except ValueError:
        return False
    query = {name.lower() for name in parse_qs(parts.query)}
    return bool(password) or "password" in query


def env_name(path: Path) -> str:
    """The environment variable that sets ``path`` (a list is set whole, as JSON)."""
    if len(path) == 1 and str(path[0]).lower() in WELL_KNOWN_ENV:
        return WELL_KNOWN_ENV[str(path[0]).lower()]
    names: list[str] = []
    for part in path:
        if isinstance(part, int):
            return "TOOLCORD_" + "__".join(names) + " (the whole list, as JSON)"
        names.append(part.upper())
    return "TOOLCORD_" + "__".join(names)


def _leaves(value: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    elif path:
        yield path, value


def _dotted(path: Path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
