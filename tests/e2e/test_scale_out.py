"""Issue 11: two bot processes split two shards over one PostgreSQL database.

Each process is the real bot in a child process (``bot.testing.bot_process``) on the emulators
in this one: process A runs shard 0, process B shard 1, of 2. Each has its own system prompt
naming it, and the model emulator answers "process <name> answers msg-<n>", so every reply in
Discord says which process wrote it; the store's exchanges say which process accepted each
message (their ``owner``), and each process's ``/metrics`` says how many messages it handled per
shard.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.testing.bot_process import BotProcess
from bot.testing.discord import DiscordEmulator, StoredMessage
from bot.testing.discord.models import Guild
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator, TextReply

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
SHARDS = 2
NAMES = {0: "A", 1: "B"}
OWNERS = {0: "shards-0of2", 1: "shards-1of2"}
USAGE = {"prompt_tokens": 600, "completion_tokens": 400}
WAIT_S = 30.0
HEALTH_LINE = re.compile(r"health endpoints at (http://\S+)")
PROCESS_TAG = re.compile(r"\[process (\w+)\]")
MESSAGE_TAG = re.compile(r"msg-\d+")


def postgres_dsn() -> str:
    return os.environ.get("TOOLCORD_TEST_POSTGRES_DSN", DEFAULT_POSTGRES_DSN)


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    """A fresh PostgreSQL schema for the processes' shared store, dropped afterwards."""
    try:
        connection = await asyncio.wait_for(asyncpg.connect(postgres_dsn()), 5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        pytest.skip(
            f"PostgreSQL not reachable at {postgres_dsn()} ({type(error).__name__}: {error}). To "
            "run the scale-out tests start PostgreSQL there (trust auth, database 'test') or set "
            "TOOLCORD_TEST_POSTGRES_DSN to a server you may create schemas in."
        )
    name = f"toolcord_scale_{uuid.uuid4().hex[:12]}"
    try:
        await connection.execute(f'CREATE SCHEMA "{name}"')
        yield name
    finally:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await connection.close()


def answer_by_process(request: dict[str, Any]) -> TextReply:
    """The model: "process <name from the system prompt> answers <msg-N from the user>"."""
    messages = request.get("messages") or []
    system = " ".join(str(m.get("content")) for m in messages if m.get("role") == "system")
    user = next((str(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    process = PROCESS_TAG.search(system)
    tag = MESSAGE_TAG.search(user)
    who = process.group(1) if process else "?"
    return TextReply(f"process {who} answers {tag.group(0) if tag else '?'}", usage=USAGE)


@dataclass
class Fleet:
    """The emulators, the shared store and the bot processes of one test."""

    discord: DiscordEmulator
    openai: OpenAIEmulator
    harness: BotHarness
    schema: str
    quotas: dict[str, Any] = field(default_factory=dict)
    processes: dict[int, BotProcess] = field(default_factory=dict)
    health: dict[int, str] = field(default_factory=dict)
    guilds: list[Guild] = field(default_factory=list)
    _count: int = 0

    def store_dsn(self) -> str:
        joiner = "&" if "?" in postgres_dsn() else "?"
        return f"{postgres_dsn()}{joiner}search_path={self.schema}"

    def settings_for(self, shard: int) -> dict[str, Any]:
        return self.harness.settings_values(
            discord={"shard_count": SHARDS, "shard_ids": [shard]},
            store={"dsn": self.store_dsn()},
            chat={"system_prompt": f"You are a test bot. [process {NAMES[shard]}]"},
            observability={"health_port": 0},
            quotas={"reserve_tokens": 100, **self.quotas},
            tools={"modules": []},
        )

    async def start(self, *shards: int) -> None:
        """Start one process per shard, together, and wait until each is ready."""
        started = {shard: await BotProcess.start(self.settings_for(shard)) for shard in shards}
        self.processes.update(started)
        await asyncio.gather(*(process.wait_ready(WAIT_S) for process in started.values()))
        for shard, process in started.items():
            self.health[shard] = _health_url(process)

    async def stop_all(self) -> None:
        await asyncio.gather(*(process.stop() for process in self.processes.values()))

    def add_guilds(self, per_shard: int) -> None:
        """``per_shard`` guilds on each shard, alternating shard 0, shard 1, ..."""
        for index in range(per_shard * SHARDS):
            shard = index % SHARDS
            guild_id = self.discord.snowflakes.for_shard(shard, SHARDS)
            self.guilds.append(
                self.discord.add_guild(f"guild-{index}", members=["alice"], id=guild_id)
            )

    def connected(self, shard: int) -> bool:
        """Whether a gateway connection of ``shard`` is open on the emulator."""
        return any(s.shard_id == shard and s.connection for s in self.discord.sessions)

    def guild_on(self, shard: int, nth: int = 0) -> Guild:
        return [g for g in self.guilds if (g.id >> 22) % SHARDS == shard][nth]

    async def ask(self, guild: Guild) -> tuple[dict[str, Any], str]:
        """Mention the bot in the guild's #general; returns the message and its ``msg-N`` tag."""
        self._count += 1
        tag = f"msg-{self._count}"
        bot_user = self.discord.bot_user
        message = await self.discord.inject_message(
            self.discord.channel("general", guild),
            self.discord.user("alice"),
            f"<@{bot_user.id}> hello, this is {tag}",
            mentions=[bot_user],
        )
        return message, tag

    async def reply_to(self, guild: Guild, source: dict[str, Any], ending: str) -> StoredMessage:
        """The bot's reply to ``source`` once its text ends with ``ending`` (answers stream)."""
        return await self.discord.wait_for_message(
            self.discord.channel("general", guild),
            lambda m: _replies_to(m, source) and m.content.endswith(ending),
            timeout=WAIT_S,
        )

    def replies_to(self, guild: Guild, source: dict[str, Any]) -> list[StoredMessage]:
        channel = self.discord.channel("general", guild)
        bot_id = self.discord.bot_user.id
        return [
            m
            for m in self.discord.messages(channel)
            if m.author.id == bot_id and _replies_to(m, source)
        ]

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        connection = await asyncpg.connect(
            postgres_dsn(), server_settings={"search_path": self.schema}
        )
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    async def exchanges(self, sources: Iterable[dict[str, Any]]) -> dict[int, asyncpg.Record]:
        ids = [int(source["id"]) for source in sources]
        rows = await self.sql(
            "SELECT source_message_id, owner, status, sent_message_ids FROM exchanges "
            "WHERE source_message_id = ANY($1::bigint[])",
            ids,
        )
        return {int(row["source_message_id"]): row for row in rows}

    async def wait_settled(self, sources: list[dict[str, Any]]) -> dict[int, asyncpg.Record]:
        """Wait until the store has finished every exchange of ``sources`` (or fail)."""
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while True:
            rows = await self.exchanges(sources)
            if len(rows) == len(sources) and all(r["status"] != "pending" for r in rows.values()):
                return rows
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"exchanges not settled within {WAIT_S} s: {rows}")
            await asyncio.sleep(0.05)

    async def get(self, shard: int, path: str) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.health[shard] + path) as response,
        ):
            return response.status, await response.text()

    async def metric(self, process: int, name: str, /, **labels: str) -> float:
        """The sum of a metric's samples in ``/metrics`` of the process on shard ``process``."""
        status, text = await self.get(process, "/metrics")
        assert status == 200
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                wanted = all(sample.labels.get(k) == v for k, v in labels.items())
                if sample.name == name and wanted:
                    total += sample.value
        return total


def sent_ids(row: asyncpg.Record) -> list[int]:
    """The ids of the Discord messages an exchange sent (a JSONB list, read as text here)."""
    value = row["sent_message_ids"]
    return [int(i) for i in (json.loads(value) if isinstance(value, str) else value)]


def _replies_to(message: StoredMessage, source: dict[str, Any]) -> bool:
    reference = message.message_reference or {}
    return int(reference.get("message_id") or 0) == int(source["id"])


def _health_url(process: BotProcess) -> str:
    for line in process.output:
        found = HEALTH_LINE.search(line)
        if found:
            return found.group(1)
    raise AssertionError("the bot process did not log its health endpoint address")


@pytest.fixture
async def fleet(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    schema: str,
) -> AsyncIterator[Fleet]:
    openai_emulator.chat.set_default(answer_by_process)
    fleet = Fleet(discord_emulator, openai_emulator, bot_harness, schema)
    try:
        yield fleet
    finally:
        await fleet.stop_all()


def shard_of(guild: Guild) -> int:
    return (guild.id >> 22) % SHARDS


async def test_two_processes_answer_twenty_guilds_once_each_by_the_shard_owner(
    fleet: Fleet,
) -> None:
    fleet.add_guilds(per_shard=10)
    await fleet.start(0, 1)
    identified = sorted(tuple(identify["shard"]) for identify in fleet.discord.identifies)
    assert identified == [(0, 2), (1, 2)]

    asked = [(guild, *(await fleet.ask(guild))) for guild in fleet.guilds]
    replies = await asyncio.gather(
        *(fleet.reply_to(guild, source, tag) for guild, source, tag in asked)
    )
    rows = await fleet.wait_settled([source for _, source, _ in asked])

    for (guild, source, tag), reply in zip(asked, replies, strict=True):
        shard = shard_of(guild)
        assert reply.content == f"process {NAMES[shard]} answers {tag}"
        assert len(fleet.replies_to(guild, source)) == 1, f"{guild.name} was answered twice"
        row = rows[int(source["id"])]
        assert (row["owner"], row["status"]) == (OWNERS[shard], "complete")
        assert sent_ids(row) == [reply.id]
    assert len(fleet.openai.chat.requests) == 20

    for shard in (0, 1):
        other = str(1 - shard)
        handled = "toolcord_messages_handled_total"
        assert await fleet.metric(shard, handled, shard=str(shard), outcome="answered") == 10
        assert await fleet.metric(shard, handled, shard=other) == 0
        assert await fleet.metric(shard, "toolcord_model_request_seconds_count") == 10
        assert await fleet.metric(shard, "toolcord_shard_ready", shard=str(shard)) == 1
        status, body = await fleet.get(shard, "/readyz")
        assert status == 200, body
        assert json.loads(body)["checks"]["store"]["ok"] is True
        assert (await fleet.get(shard, "/healthz"))[0] == 200
        logged = [line for line in fleet.processes[shard].output if "is ready" in line]
        assert logged and all(f"[shard {shard}/2] " in line for line in logged), logged


async def test_a_global_budget_spent_across_both_processes_stops_both(fleet: Fleet) -> None:
    fleet.quotas = {"global_daily_tokens": 3_000}
    fleet.add_guilds(per_shard=2)
    await fleet.start(0, 1)

    # Each answer costs 1,000 tokens: A, B, A spend the 3,000 of the shared budget.
    spent = []
    for guild in (fleet.guild_on(0), fleet.guild_on(1), fleet.guild_on(0, 1)):
        source, tag = await fleet.ask(guild)
        await fleet.reply_to(guild, source, tag)
        spent.append(source)
    await fleet.wait_settled(spent)
    assert len(fleet.openai.chat.requests) == 3

    refused = []
    for guild in (fleet.guild_on(1, 1), fleet.guild_on(0)):
        source, _ = await fleet.ask(guild)
        reply = await fleet.reply_to(guild, source, "")  # a refusal is sent whole, not streamed
        assert "The bot has used its shared daily budget of 3,000 tokens." in reply.content
        refused.append(source)
    await fleet.wait_settled(refused)
    assert len(fleet.openai.chat.requests) == 3, "a spent global budget must stop every process"
    for shard in (0, 1):
        assert await fleet.metric(shard, "toolcord_refusals_total", kind="quota") == 1
        handled = "toolcord_messages_handled_total"
        assert await fleet.metric(shard, handled, outcome="refused") == 1


async def test_a_killed_process_restarts_on_its_shard_and_keeps_what_was_answered(
    fleet: Fleet,
) -> None:
    fleet.add_guilds(per_shard=2)
    await fleet.start(0, 1)
    answered = []
    for guild in fleet.guilds:
        source, tag = await fleet.ask(guild)
        await fleet.reply_to(guild, source, tag)
        answered.append((guild, source, tag))
    await fleet.wait_settled([source for _, source, _ in answered])

    fleet.processes[1].kill()
    await fleet.processes[1].wait()
    await fleet.discord.wait_until(lambda: not fleet.connected(1), timeout=WAIT_S)
    assert (await fleet.get(0, "/readyz"))[0] == 200, "A's readiness does not depend on B"

    # While B is down, A keeps answering its shard; it is mid-answer when B comes back.
    asked, release = asyncio.Event(), asyncio.Event()

    async def slow_answer(request: dict[str, Any]) -> TextReply:
        asked.set()
        await release.wait()
        return answer_by_process(request)

    fleet.openai.chat.reply(slow_answer)
    a_guild = fleet.guild_on(0)
    a_source, a_tag = await fleet.ask(a_guild)
    await asyncio.wait_for(asked.wait(), WAIT_S)
    (pending,) = (await fleet.exchanges([a_source])).values()
    assert pending["status"] == "pending"

    await fleet.start(1)
    assert (await fleet.get(1, "/readyz"))[0] == 200
    release.set()
    a_reply = await fleet.reply_to(a_guild, a_source, a_tag)
    assert a_reply.content == f"process A answers {a_tag}"
    (settled,) = (await fleet.wait_settled([a_source])).values()
    assert settled["status"] == "complete", "B's restart must not touch A's unfinished answer"

    # Everything answered before the kill is still in the store, with its reply.
    rows = await fleet.exchanges([source for _, source, _ in answered])
    assert len(rows) == len(answered)
    for _, source, _ in answered:
        row = rows[int(source["id"])]
        assert row["status"] == "complete" and sent_ids(row)

    # B is back on shard 1: new messages there are answered, with the conversation's history.
    b_guild = fleet.guild_on(1)
    b_source, b_tag = await fleet.ask(b_guild)
    b_reply = await fleet.reply_to(b_guild, b_source, b_tag)
    assert b_reply.content == f"process B answers {b_tag}"
    history = " ".join(str(m.get("content")) for m in fleet.openai.chat.requests[-1]["messages"])
    earlier_tag = next(tag for guild, _, tag in answered if guild is b_guild)
    assert f"process B answers {earlier_tag}" in history, "the conversation lost its history"
    shard_one = [identify for identify in fleet.discord.identifies if identify["shard"] == [1, 2]]
    assert len(shard_one) == 2
    assert all("interrupted by a restart" not in m.content for m in _bot_messages(fleet))


def _bot_messages(fleet: Fleet) -> list[StoredMessage]:
    bot_id = fleet.discord.bot_user.id
    return [
        message
        for guild in fleet.guilds
        for message in fleet.discord.messages(fleet.discord.channel("general", guild))
        if message.author.id == bot_id
    ]
