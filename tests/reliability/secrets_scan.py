"""Secrets (catalogue A6): canary credentials never show up in logs, error texts or the database.

The bot runs in a child process (the production logging setup, at DEBUG) with a canary bot token
and OpenAI key, and goes through normal turns, failures on both sides, a gateway drop and a new
session, and slash commands (each interaction carries its own token). Afterwards every captured
log line, every message users could see, and the SQLite files (database, WAL, shared memory) are
searched for each canary and for each token's secret part.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.testing.bot_process import BotProcess
from bot.testing.discord import EmulatorTimeout, InteractionHandle
from bot.testing.openai import Fault
from tests.reliability.rig import USER_DEADLINE_S, Rig, ask, open_rig, scratch_dir

_TOKEN_ID = base64.b64encode(b"987654321098765432").decode().rstrip("=")
CANARY_BOT_TOKEN = f"{_TOKEN_ID}.CnRy01.CanaryBotTokenSecretPart0123456789abcdef"
CANARY_OPENAI_KEY = "sk-proj-CanaryOpenAIKeySecretPart0123456789abcdef"
MESSAGE_POST = r"/channels/\d+/messages"


@dataclass
class Canaries:
    """The secrets to look for, by kind (each also by its most secret part)."""

    values: dict[str, str] = field(
        default_factory=lambda: {
            "bot_token": CANARY_BOT_TOKEN,
            "bot_token_hmac": CANARY_BOT_TOKEN.rsplit(".", 1)[1],
            "openai_key": CANARY_OPENAI_KEY,
            "openai_key_body": CANARY_OPENAI_KEY.removeprefix("sk-proj-"),
        }
    )

    def add_interaction(self, handle: InteractionHandle) -> None:
        self.values[f"interaction_token_{len(self.values)}"] = handle.token

    def hits(self, text: str) -> dict[str, int]:
        return {kind: text.count(value) for kind, value in self.values.items() if value in text}


async def _say(rig: Rig, text: str, wanted: str | None = None) -> None:
    payload = await ask(rig.discord, rig.discord.channel("general"), "alice", text)
    source = int(payload["id"])
    # The scan is what this scenario measures; a missing answer shows in the other scenarios.
    with contextlib.suppress(EmulatorTimeout):
        await rig.discord.wait_for_message(
            "general",
            lambda m: m.referenced_message_id == source and (wanted is None or wanted in m.content),
            timeout=USER_DEADLINE_S,
        )


async def _slash(rig: Rig, canaries: Canaries, name: str, **options: Any) -> None:
    handle = await rig.discord.inject_interaction(
        name, user="alice", channel="general", options=options or None
    )
    canaries.add_interaction(handle)
    with contextlib.suppress(EmulatorTimeout):
        await handle.wait(lambda h: h.final_content() is not None, USER_DEADLINE_S)


async def _activities(rig: Rig, canaries: Canaries) -> None:
    """Turns that make the bot log, fail, retry and reconnect."""
    await _say(rig, "hello there", "hello there")
    rig.openai.chat.reply_fault(Fault.invalid_api_key())
    await _say(rig, "after a refused key")
    rig.openai.chat.reply_fault(Fault.outage(500, times=2))
    await _say(rig, "during an outage")
    rig.openai.chat.reply_fault(Fault.rate_limit(0.05, times=3))
    await _say(rig, "while rate limited")
    rig.discord.faults.add("POST", MESSAGE_POST, status=429, retry_after=0.2)
    rig.discord.faults.add("POST", MESSAGE_POST, status=500)
    await _say(rig, "through Discord trouble", "through Discord trouble")
    await rig.discord.drop_gateway(4000)
    await _say(rig, "after a resume", "after a resume")
    await rig.discord.invalidate_session(resumable=False)
    await rig.discord.wait_until(lambda: len(rig.discord.identifies) >= 2, USER_DEADLINE_S)
    await _say(rig, "after a new session", "after a new session")
    await rig.discord.wait_until(lambda: "chat" in rig.discord.commands.names(), USER_DEADLINE_S)
    await _slash(rig, canaries, "chat", prompt="a slash question")
    rig.openai.chat.reply_fault(Fault.invalid_api_key())
    await _slash(rig, canaries, "chat", prompt="a slash question that fails", private=True)
    await _slash(rig, canaries, "usage")
    await _slash(rig, canaries, "export")


def _visible_texts(rig: Rig) -> str:
    """Everything users could read: messages in every channel the emulator holds."""
    texts: list[str] = []
    for channel in rig.discord.world.channels.values():
        texts.extend(message.content for message in rig.discord.messages(channel))
    return "\n".join(texts)


def _database_text(data_dir: Path) -> str:
    parts = [path.read_bytes() for path in sorted(data_dir.glob("toolcord.db*"))]
    return b"\n".join(parts).decode("latin-1")


async def run_secrets() -> dict[str, Any]:
    """Run the activities at DEBUG and count canary hits per place (see the module docstring)."""
    canaries = Canaries()
    with scratch_dir("secrets") as scratch:
        async with open_rig(scratch, token=CANARY_BOT_TOKEN) as rig:
            values = rig.harness.settings_values(
                OPENAI_API_KEY=CANARY_OPENAI_KEY, log_level="DEBUG", openai={"max_retries": 1}
            )
            process = await BotProcess.start(values)
            try:
                await process.wait_ready(60)
                await _activities(rig, canaries)
            finally:
                await process.stop()
            places = {
                "log_output": "\n".join(process.output),
                "user_visible_texts": _visible_texts(rig),
                "database_files": _database_text(Path(values["data_dir"])),
            }
            hits = {place: canaries.hits(text) for place, text in places.items()}
            return {
                "canaries": len(canaries.values),
                "interaction_tokens": sum(k.startswith("interaction") for k in canaries.values),
                "log_lines": len(process.output),
                "debug_lines": sum(" DEBUG " in line for line in process.output),
                "hits": sum(sum(found.values()) for found in hits.values()),
                "hits_by_place": {place: found for place, found in hits.items() if found},
                "unhandled_exceptions": rig.watch.count
                + sum("Traceback" in line for line in process.output),
            }


def secrets_ok(figures: dict[str, Any]) -> bool:
    """The gate: no canary anywhere, and DEBUG logging really was on."""
    return figures["hits"] == 0 and figures["debug_lines"] > 0
