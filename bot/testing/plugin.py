"""toolcord's pytest plugin: the network guard and fixtures that run a real bot on the emulators.

Installed with toolcord (entry point ``pytest11``; ``pip install 'toolcord[testing]'`` brings
pytest and pytest-asyncio), so a bot owner's tests get these too:

- ``discord_emulator`` / ``openai_emulator``: started emulators (the OpenAI one fails the test if a
  request broke the official schema; mark a test ``openai_violations_expected`` to allow it).
- ``toolcord_config``: the owner's own settings, read from ``config/bot.toml`` of the project
  (ini option ``toolcord_config`` or ``$TOOLCORD_CONFIG`` name another file).
- ``bot_harness``: a BotHarness on both emulators with those settings and a fresh data folder.
- ``toolcord_bot``: a running, ready bot with the owner's settings and tool modules.
- ``toolcord_ask``: ``await toolcord_ask("text")`` posts a message that mentions the bot.
- every test fails if its process tried to reach a host other than loopback.

The plugin also turns on pytest-asyncio's auto mode (unless ``--asyncio-mode`` is given), so
``async def`` tests and fixtures need no marks, and puts the project folder (pytest's rootdir) on
``sys.path``, so tool modules there import as they do for ``python -m bot`` run from it.
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

try:
    import pytest_asyncio
except ImportError as missing:  # pragma: no cover - depends on how toolcord was installed
    raise ImportError(
        "toolcord's test kit needs pytest-asyncio: install it with pip install 'toolcord[testing]'"
    ) from missing

from bot.shims.pytest_internals import unmark_for_rewrite
from bot.testing.netguard import NetGuard

CONFIG_INI = "toolcord_config"
DEFAULT_CONFIG = "config/bot.toml"

# The runtime packages of this distribution. pytest marks every package of a distribution with a
# ``pytest11`` entry point for assertion rewriting; the bot's own code has no test asserts, and a
# rewritten import re-parses the module into Python AST objects every time an extension loads. On
# CPython 3.11 before 3.11.8 (gh-106905) such a parse can fail with "AST constructor recursion depth
# mismatch", so the bot's modules are imported the ordinary way.
RUNTIME_PACKAGES = ("bot", "cogs", "tools", "examples")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        CONFIG_INI,
        help="the bot's TOML config that toolcord_bot runs with (default config/bot.toml)",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    _import_runtime_packages_plainly(config)
    if config.getoption("asyncio_mode", None) is None:
        config.option.asyncio_mode = "auto"
    rootdir = str(config.rootpath)
    if rootdir not in sys.path:
        sys.path.insert(0, rootdir)
    config.addinivalue_line(
        "markers", "openai_violations_expected: the test sends requests that break the schema"
    )
    config.addinivalue_line("markers", "allow_network: the test may reach non-loopback hosts")
    # discord.py imports audioop (for voice, which toolcord never joins): not the owner's concern.
    config.addinivalue_line("filterwarnings", "ignore:'audioop' is deprecated:DeprecationWarning")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Before any conftest imports the bot: its packages are imported without rewriting."""
    _import_runtime_packages_plainly(early_config)


def _import_runtime_packages_plainly(config: pytest.Config) -> None:
    """Unmark the runtime packages for assertion rewriting (test modules stay rewritten)."""
    unmark_for_rewrite(config, RUNTIME_PACKAGES)


@pytest.fixture(scope="session")
def toolcord_netguard() -> Iterator[NetGuard]:
    """The session's network guard (installed for the whole session)."""
    guard = NetGuard()
    guard.install()
    yield guard
    guard.uninstall()


@pytest.fixture(autouse=True)
def _toolcord_no_network(
    request: pytest.FixtureRequest, toolcord_netguard: NetGuard
) -> Iterator[None]:
    toolcord_netguard.take_violations()
    yield
    violations = toolcord_netguard.take_violations()
    if violations and request.node.get_closest_marker("allow_network") is None:
        pytest.fail(f"the test tried to reach the network: {sorted(set(violations))}")


@pytest_asyncio.fixture
async def discord_emulator() -> AsyncIterator[object]:
    """A started DiscordEmulator with its default world."""
    from bot.testing.discord import DiscordEmulator

    async with DiscordEmulator() as emulator:
        yield emulator


@pytest_asyncio.fixture
async def openai_emulator(request: pytest.FixtureRequest) -> AsyncIterator[object]:
    """A started OpenAIEmulator; fails the test on schema violations unless marked."""
    from bot.testing.openai import OpenAIEmulator

    async with OpenAIEmulator() as emulator:
        yield emulator
        if request.node.get_closest_marker("openai_violations_expected") is None:
            emulator.assert_no_violations()


@pytest.fixture(scope="session")
def toolcord_config(pytestconfig: pytest.Config) -> dict[str, Any]:
    """The owner's settings from their TOML config file ({} when the project has none).

    The file is the ini option ``toolcord_config``, else ``$TOOLCORD_CONFIG``, else
    ``config/bot.toml`` under pytest's rootdir (which may be missing). It is checked as
    ``python -m bot check`` checks it, so a typo fails the test run with the same message.
    """
    import os

    from bot.settings import load_settings

    named = pytestconfig.getini(CONFIG_INI) or os.environ.get("TOOLCORD_CONFIG", "")
    path = pytestconfig.rootpath / (named or DEFAULT_CONFIG)
    if not named and not path.is_file():
        return {}
    load_settings(path, env_file=None)
    with path.open("rb") as file:
        return tomllib.load(file)


@pytest_asyncio.fixture
async def bot_harness(
    discord_emulator: object,
    openai_emulator: object,
    tmp_path: Path,
    toolcord_config: dict[str, Any],
) -> AsyncIterator[object]:
    """A BotHarness on both emulators with the owner's settings and a fresh data folder."""
    from bot.testing.harness import BotHarness

    yield BotHarness(
        discord_emulator,  # type: ignore[arg-type]
        openai_emulator,  # type: ignore[arg-type]
        data_dir=tmp_path / "data",
        config=toolcord_config,
    )


@pytest_asyncio.fixture
async def toolcord_bot(bot_harness: object) -> AsyncIterator[object]:
    """The real toolcord bot, connected to the emulators and ready."""
    async with bot_harness.run() as bot:  # type: ignore[attr-defined]
        yield bot


@pytest.fixture
def toolcord_ask(discord_emulator: Any) -> Callable[..., Awaitable[dict[str, Any]]]:
    """``await toolcord_ask("text", channel="general", user="alice")``: mention the bot there.

    Returns the injected message (its ``id``, ``channel_id``, ...).
    """

    async def ask(text: str, *, channel: str = "general", user: str = "alice") -> dict[str, Any]:
        bot_user = discord_emulator.bot_user
        result: dict[str, Any] = await discord_emulator.inject_message(
            discord_emulator.channel(channel),
            discord_emulator.user(user),
            f"<@{bot_user.id}> {text}",
            mentions=[bot_user],
        )
        return result

    return ask
