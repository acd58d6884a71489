"""toolcord's pytest plugin: the network guard and fixtures that run a real bot on the emulators.

Installed with toolcord (entry point ``pytest11``), so a bot owner's tests get these too:

- ``discord_emulator`` / ``openai_emulator``: started emulators (the OpenAI one fails the test if a
  request broke the official schema; mark a test ``openai_violations_expected`` to allow it).
- ``bot_harness``: a BotHarness on both emulators with a fresh data folder.
- ``toolcord_bot``: a running, ready bot.
- every test fails if its process tried to reach a host other than loopback.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.testing.netguard import NetGuard

# The runtime packages of this distribution. pytest marks every package of a distribution with a
# ``pytest11`` entry point for assertion rewriting; the bot's own code has no test asserts, and a
# rewritten import re-parses the module into Python AST objects every time an extension loads. On
# CPython 3.11 before 3.11.8 (gh-106905) such a parse can fail with "AST constructor recursion depth
# mismatch", so the bot's modules are imported the ordinary way.
RUNTIME_PACKAGES = ("bot", "cogs", "tools", "examples")


def pytest_configure(config: pytest.Config) -> None:
    _import_runtime_packages_plainly(config)
    config.addinivalue_line(
        "markers", "openai_violations_expected: the test sends requests that break the schema"
    )
    config.addinivalue_line("markers", "allow_network: the test may reach non-loopback hosts")


def _import_runtime_packages_plainly(config: pytest.Config) -> None:
    """Unmark the runtime packages for assertion rewriting (test modules stay rewritten)."""
    hook = getattr(config.pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)  # pytest's own set; no public way to unmark
    if isinstance(marked, set):
        marked.difference_update(RUNTIME_PACKAGES)


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


@pytest_asyncio.fixture
async def bot_harness(
    discord_emulator: object, openai_emulator: object, tmp_path: Path
) -> AsyncIterator[object]:
    """A BotHarness on both emulators with a fresh data folder."""
    from bot.testing.harness import BotHarness

    yield BotHarness(discord_emulator, openai_emulator, data_dir=tmp_path / "data")  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def toolcord_bot(bot_harness: object) -> AsyncIterator[object]:
    """The real toolcord bot, connected to the emulators and ready."""
    async with bot_harness.run() as bot:  # type: ignore[attr-defined]
        yield bot
