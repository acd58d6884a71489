"""Every start-up failure an owner can meet: one or two lines, an exit code per class, no traceback.

Each test runs ``python -m bot`` as a child process, the way an owner starts the bot. Discord's
answers (401, close code 4014) come from the loopback Discord emulator; the network failures use a
loopback port nothing listens on, a ``.invalid`` host name (which never resolves), and an https URL
to the emulator's plain-HTTP port.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.startup_failures import ExitCode, explain
from bot.testing.discord import DiscordEmulator
from bot.testing.discord.config import MESSAGE_CONTENT_INTENT

ROOT = Path(__file__).resolve().parents[2]
TOKEN = (
    base64.b64encode(b"123456789012345678").decode().rstrip("=")
    + ".GaBcDe.abcdefghijklmnopqrstuvwxyz012345"
)
NETWORK_HINT = (
    "Check this machine's network connection and firewall, or discord.api_base_url if you "
    "changed it; then start the bot again."
)


@dataclass
class Outcome:
    code: int
    stderr: str

    @property
    def toolcord_lines(self) -> list[str]:
        """The explanation: the last lines of stderr, from the first ``toolcord:`` line on."""
        lines = self.stderr.rstrip("\n").splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("toolcord: "))
        return lines[first:]


async def run_bot(
    cwd: Path, *args: str, api: str, gateway: str = "ws://127.0.0.1:9", **env: str
) -> Outcome:
    """``python -m bot`` with a well-shaped token, pointed at ``api``; waits for it to exit."""
    child_env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TOOLCORD_") and key not in {"DISCORD_TOKEN", "OPENAI_API_KEY"}
    }
    child_env.update(
        PYTHONPATH=str(ROOT),
        DISCORD_TOKEN=TOKEN,
        OPENAI_API_KEY="sk-test",
        TOOLCORD_DISCORD__API_BASE_URL=api,
        TOOLCORD_DISCORD__GATEWAY_URL=gateway,
        TOOLCORD_DATA_DIR=str(cwd / "data"),
        **env,
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=child_env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Outcome(process.returncode, stderr.decode())


def assert_explained(outcome: Outcome, code: ExitCode, *lines: str) -> None:
    assert outcome.code == code, outcome.stderr
    assert outcome.toolcord_lines == list(lines), outcome.stderr
    assert "Traceback" not in outcome.stderr


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that is bound (so nobody else takes it) but refuses connections."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


async def test_connection_refused(tmp_path: Path, closed_port: int) -> None:
    outcome = await run_bot(tmp_path, api=f"http://127.0.0.1:{closed_port}/api/v10")
    assert_explained(
        outcome,
        ExitCode.UNREACHABLE,
        f"toolcord: cannot reach Discord at 127.0.0.1:{closed_port}: the connection was refused.",
        NETWORK_HINT,
    )


async def test_dns_failure(tmp_path: Path) -> None:
    outcome = await run_bot(tmp_path, api="http://discord.invalid/api/v10")
    assert_explained(
        outcome,
        ExitCode.DNS,
        "toolcord: cannot reach Discord: the host name discord.invalid does not resolve (DNS).",
        "Check this machine's network and DNS, or discord.api_base_url if you changed it.",
    )


async def test_tls_failure(tmp_path: Path) -> None:
    async with DiscordEmulator(token=TOKEN) as emu:
        plain = emu.api_base_url.removeprefix("http://")
        outcome = await run_bot(tmp_path, api=f"https://{plain}")
    address = plain.split("/", 1)[0]
    assert_explained(
        outcome,
        ExitCode.TLS,
        f"toolcord: cannot reach Discord: the secure connection to {address} failed "
        "(wrong version number).",
        "Check the machine's clock and CA certificates, a proxy that intercepts TLS, or "
        "discord.api_base_url if you changed it.",
    )


async def test_discord_refuses_the_token(tmp_path: Path) -> None:
    async with DiscordEmulator(token="another-bots-token") as emu:
        outcome = await run_bot(tmp_path, api=emu.api_base_url, gateway=emu.gateway_url)
    assert [(r.method, r.path, r.status) for r in emu.requests] == [("GET", "/users/@me", 401)]
    # The invite URL comes before the login, so an owner sees it even when Discord refuses.
    assert (
        "invite the bot with: https://discord.com/oauth2/authorize?client_id=123456789012345678"
        in (outcome.stderr)
    )
    assert_explained(
        outcome,
        ExitCode.TOKEN_REFUSED,
        "toolcord: Discord refused DISCORD_TOKEN: reset the token in the Developer Portal (Bot -> "
        "Reset Token) and put the new one in .env.",
    )


async def test_discord_refuses_the_message_content_intent(tmp_path: Path) -> None:
    async with DiscordEmulator(token=TOKEN, privileged_intents_enabled=0) as emu:
        outcome = await run_bot(
            tmp_path,
            api=emu.api_base_url,
            gateway=emu.gateway_url,
            TOOLCORD_DISCORD__MESSAGE_CONTENT_INTENT="true",
        )
    identifies = [entry.data for entry in emu.gateway_log if entry.op == 2]
    assert [data["intents"] & MESSAGE_CONTENT_INTENT for data in identifies] == [
        MESSAGE_CONTENT_INTENT
    ]
    assert_explained(
        outcome,
        ExitCode.INTENTS_REFUSED,
        "toolcord: Discord refused the Message Content intent: enable it in the Developer Portal "
        "(Bot -> Privileged Gateway Intents) or set discord.message_content_intent = false.",
    )


async def test_a_store_that_cannot_open(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    async with DiscordEmulator(token=TOKEN) as emu:
        outcome = await run_bot(
            tmp_path,
            api=emu.api_base_url,
            gateway=emu.gateway_url,
            TOOLCORD_STORE__DSN=str(tmp_path / "a-file" / "toolcord.db"),
        )
    assert_explained(
        outcome,
        ExitCode.STORE,
        f"toolcord: Cannot create the data folder {tmp_path / 'a-file'} for the conversation "
        "store (a file is in the way). The bot owner must create it, make it writable, or set "
        "data_dir (or store.dsn) to a writable place.",
    )


BAD_TOOLS = {
    "untyped": (
        "from tools import tool\n\n\n@tool\nasync def greet(name) -> str:\n"
        '    """Say hi."""\n    return name\n',
        "toolcord: Tool module 'untyped' defines a tool toolcord cannot use (at untyped.py:4): "
        "Tool 'greet', parameter 'name': needs a type annotation. Fix that definition.",
    ),
    "broken": (
        "import json\n\nanswer = undefined_name\n",
        "toolcord: Tool module 'broken' failed to import (at broken.py:3): NameError: name "
        "'undefined_name' is not defined. Fix the module's code or its imports.",
    ),
    "needs_pkg": (
        "import not_installed_anywhere\n",
        "toolcord: Tool module 'needs_pkg' failed to import (at needs_pkg.py:1): "
        "ModuleNotFoundError: No module named 'not_installed_anywhere'. Fix the module's code or "
        "its imports.",
    ),
    "missing": (
        None,
        "toolcord: No tool module named 'missing' (tools.modules names it). Check the spelling, "
        "and run toolcord from the folder that contains it or put that folder on PYTHONPATH.",
    ),
}


CASES = [*((module, "check") for module in sorted(BAD_TOOLS)), ("untyped", "run")]


@pytest.mark.parametrize(("module", "command"), CASES)
async def test_a_bad_tool_module(
    tmp_path: Path, closed_port: int, module: str, command: str
) -> None:
    source, expected = BAD_TOOLS[module]
    if source is not None:
        (tmp_path / f"{module}.py").write_text(source)
    outcome = await run_bot(
        tmp_path,
        command,
        # A closed port: the tools are checked before anything connects to Discord.
        api=f"http://127.0.0.1:{closed_port}/api/v10",
        TOOLCORD_TOOLS__MODULES=f'["{module}"]',
    )
    assert_explained(outcome, ExitCode.TOOL_MODULE, expected)


async def test_debug_shows_the_traceback_too(tmp_path: Path, closed_port: int) -> None:
    outcome = await run_bot(tmp_path, "--debug", api=f"http://127.0.0.1:{closed_port}/api/v10")
    assert outcome.code == ExitCode.UNREACHABLE
    assert "Traceback (most recent call last)" in outcome.stderr
    assert "aiohttp.client_exceptions.ClientConnectorError" in outcome.stderr
    assert outcome.toolcord_lines[0].startswith("toolcord: cannot reach Discord at 127.0.0.1:")


def test_an_unexpected_error_names_itself_and_points_to_debug() -> None:
    failure = explain(RuntimeError("the disk is on fire"))
    assert failure.exit_code == ExitCode.UNEXPECTED == 70
    assert failure.message == (
        "stopped on an unexpected error: RuntimeError: the disk is on fire\n"
        "Run again with --debug to see the traceback, and report it if the cause is not yours."
    )


def test_exit_codes_are_distinct_per_class() -> None:
    assert len({code.value for code in ExitCode}) == len(ExitCode)
