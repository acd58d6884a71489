"""Secrets in the config file (issue 16, finding 7): every placement refused, naming its env var.

Each secret-shaped key is written into a TOML file at several depths (top level of a tool's
table, nested below it, a custom tool family), and DSNs/URLs holding a password into the
settings that take one. A placement counts as refused when loading fails with a message that
names the environment variable to use and does not repeat the secret. Look-alike settings
(``max_tokens``, a DSN without a password) are the controls: they must load.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bot.config_secrets import SECRET_WORDS, env_name
from bot.errors import ConfigError
from bot.settings import load_settings

CANARY = "canary-Zq8vW3"
TABLES = (
    ("tools", "config", "search"),
    ("tools", "config", "mine"),
    ("tools", "config", "mine", "db"),
)
PASSWORD_VALUES = (
    (("store", "dsn"), f"postgresql://bot:{CANARY}@db:5432/toolcord"),
    (("store", "dsn"), f"host=db user=bot password={CANARY} dbname=toolcord"),
    (("store", "dsn"), f"postgresql://db/toolcord?password={CANARY}"),
    (("tools", "config", "search", "ddgs_proxy"), f"socks5://me:{CANARY}@proxy:1080"),
    (("tools", "config", "mine", "url"), f"https://me:{CANARY}@api.example/v1"),
)
CONTROLS = (
    (("store", "dsn"), "postgresql://bot@db:5432/toolcord"),
    (("quotas", "reserve_tokens"), 100),
    (("openai", "max_output_tokens"), 100),
    (("tools", "config", "mine", "token_url"), "https://a.example/token"),
    (("tools", "config", "mine", "max_tokens"), 3),
)


def _toml(path: tuple[str, ...], value: Any) -> str:
    rendered = f'"{value}"' if isinstance(value, str) else str(value)
    if len(path) == 1:
        return f"{path[0]} = {rendered}\n"
    return f"[{'.'.join(path[:-1])}]\n{path[-1]} = {rendered}\n"


def placements() -> list[tuple[tuple[str, ...], Any]]:
    """Every secret placement the driver tries."""
    found: list[tuple[tuple[str, ...], Any]] = [
        (("discord_token",), CANARY),
        (("openai_api_key",), CANARY),
    ]
    for table in TABLES:
        for word in SECRET_WORDS:
            found += [((*table, word), CANARY), ((*table, f"service_{word}"), CANARY)]
    return found + list(PASSWORD_VALUES)


def _load(folder: Path, path: tuple[str, ...], value: Any) -> str | None:
    config = folder / "bot.toml"
    config.write_text(_toml(path, value), encoding="utf-8")
    try:
        load_settings(config, env_file=None)
    except ConfigError as error:
        return str(error)
    return None


def run_config_secrets() -> dict[str, Any]:
    """Load every placement and control; count what was accepted or badly explained."""
    accepted = unnamed = leaked = controls_refused = 0
    tried = placements()
    with tempfile.TemporaryDirectory() as folder:
        for path, value in tried:
            message = _load(Path(folder), path, value)
            if message is None:
                accepted += 1
                continue
            unnamed += env_name(path) not in message
            leaked += CANARY in message
        for path, value in CONTROLS:
            controls_refused += _load(Path(folder), path, value) is not None
    return {
        "placements": len(tried),
        "accepted": accepted,
        "refusals_without_env_name": unnamed,
        "refusals_repeating_the_secret": leaked,
        "controls": len(CONTROLS),
        "controls_refused": controls_refused,
    }


async def run_config_secrets_async() -> dict[str, Any]:
    """The driver in the suite's async shape."""
    return run_config_secrets()


def config_secrets_ok(figures: dict[str, Any]) -> bool:
    """The gate: nothing accepted, every refusal names the env var, controls load."""
    return (
        figures["accepted"] == 0
        and figures["refusals_without_env_name"] == 0
        and figures["refusals_repeating_the_secret"] == 0
        and figures["controls_refused"] == 0
    )
