"""Issue 11: a process's /healthz, /readyz and /metrics, alone and in the running bot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.observability import (
    BotMetrics,
    CheckResult,
    HealthServer,
    ShardTracker,
    shards_check,
    store_check,
)
from bot.observability.health import ReadinessCheck
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import OpenAIEmulator

WAIT_S = 20.0


def passing(detail: str = "fine") -> ReadinessCheck:
    async def check() -> CheckResult:
        return CheckResult(True, detail)

    return check


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers["Content-Type"], await response.text()


async def get_json(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.json()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text page (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    return 0.0


@pytest.fixture
def metrics() -> BotMetrics:
    return BotMetrics(shard_of=lambda guild_id: 0 if guild_id is None else 1)


@contextlib.asynccontextmanager
async def serve(
    metrics: BotMetrics, checks: Mapping[str, ReadinessCheck], **options: float
) -> AsyncIterator[str]:
    server = HealthServer("127.0.0.1", 0, metrics=metrics, checks=checks, **options)
    url = await server.start()
    try:
        yield url
    finally:
        await server.stop()


async def test_healthz_answers_while_the_process_lives(metrics: BotMetrics) -> None:
    async with serve(metrics, {}) as url:
        assert url.startswith("http://127.0.0.1:")
        status, body = await get_json(url + "/healthz")
        assert (status, body) == (200, {"status": "alive"})


async def test_readyz_is_200_only_when_every_check_passes(metrics: BotMetrics) -> None:
    never = asyncio.Event()

    async def hangs() -> CheckResult:
        await never.wait()
        return CheckResult(True, "unreachable")

    async def breaks() -> CheckResult:
        raise ConnectionRefusedError("database is down")

    async with serve(metrics, {"discord": passing(), "store": passing()}) as url:
        status, body = await get_json(url + "/readyz")
        assert status == 200
        assert body == {
            "ready": True,
            "checks": {
                "discord": {"ok": True, "detail": "fine"},
                "store": {"ok": True, "detail": "fine"},
            },
        }

    checks = {"discord": passing(), "store": breaks, "slow": hangs}
    async with serve(metrics, checks, check_timeout_s=0.2) as url:
        status, body = await get_json(url + "/readyz")
        assert status == 503
        assert body["ready"] is False
        results = body["checks"]
        assert isinstance(results, dict)
        assert results["discord"]["ok"] is True
        assert results["store"] == {
            "ok": False,
            "detail": "ConnectionRefusedError: database is down",
        }
        assert results["slow"] == {"ok": False, "detail": "no answer within 0.2 s"}


async def test_metrics_page_is_prometheus_text_of_this_process_only(metrics: BotMetrics) -> None:
    other = BotMetrics()  # a second registry: no clash with the first, nothing global
    other.error("timeout")
    metrics.message_handled(1234, "answered")
    metrics.refusal("quota")
    metrics.tool_call("weather", "ok")
    metrics.tool_call("made_up_by_the_model", "unknown_tool")
    metrics.observe_model_request("chat/completions", 200, 0.3)
    metrics.set_shard_ready(1, True)
    async with serve(metrics, {}) as url:
        status, content_type, text = await get(url + "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    handled = "toolcord_messages_handled_total"
    assert sample(text, handled, shard="1", outcome="answered") == 1
    assert sample(text, "toolcord_refusals_total", kind="quota") == 1
    assert sample(text, "toolcord_tool_calls_total", tool="weather", status="ok") == 1
    assert sample(text, "toolcord_tool_calls_total", tool="unknown", status="unknown_tool") == 1
    assert "made_up_by_the_model" not in text
    assert sample(text, "toolcord_model_request_seconds_count", endpoint="chat/completions") == 1
    assert sample(text, "toolcord_shard_ready", shard="1") == 1
    assert sample(text, "toolcord_errors_total", kind="timeout") == 0


async def test_a_taken_port_is_an_os_error_and_leaves_nothing_running(
    metrics: BotMetrics,
) -> None:
    async with serve(metrics, {}) as url:
        port = int(url.rsplit(":", 1)[1])
        second = HealthServer("127.0.0.1", port, metrics=metrics, checks={})
        with pytest.raises(OSError):
            await second.start()
        assert second.url is None


async def test_shard_and_store_checks() -> None:
    tracker = ShardTracker()
    closed = False
    check = shards_check(tracker.status, lambda: closed)
    assert await check() == CheckResult(False, "no shard launched yet")
    tracker.expect([2, 3])
    tracker.ready(2)
    assert await check() == CheckResult(False, "shard(s) [3] not ready")
    tracker.ready(3)
    assert await check() == CheckResult(True, "shard(s) [2, 3] ready")
    tracker.lost(2)
    assert (await check()).ok is False
    tracker.ready(2)
    closed = True
    assert await check() == CheckResult(False, "the Discord client is closed")

    async def ping() -> int:
        return 1

    assert await store_check(ping)() == CheckResult(True, "reachable")


async def test_the_running_bot_serves_its_health_and_counts_its_turns(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    openai_emulator.chat.reply_text("Pong.", usage={"prompt_tokens": 10, "completion_tokens": 2})
    async with bot_harness.run(observability={"health_port": 0}) as bot:
        # The extension loader imports the cog module afresh: look at its server, not its class.
        server = getattr(bot.get_cog("Observability"), "server", None)
        assert isinstance(server, HealthServer) and server.url
        url = server.url
        status, body = await get_json(url + "/readyz")
        assert status == 200, body
        general = discord_emulator.channel("general")
        bot_user = discord_emulator.bot_user
        await discord_emulator.inject_message(
            general, discord_emulator.user("alice"), f"<@{bot_user.id}> ping", mentions=[bot_user]
        )
        await discord_emulator.wait_for_message(general, lambda m: m.content == "Pong.")
        text = await wait_for_metric(url, "toolcord_messages_handled_total", outcome="answered")
        guild_shard = str((discord_emulator.guild.id >> 22) % (bot.shard_count or 1))
        handled = "toolcord_messages_handled_total"
        assert sample(text, handled, shard=guild_shard, outcome="answered") == 1
        assert sample(text, "toolcord_turn_seconds_count") == 1
        assert sample(text, "toolcord_model_request_seconds_count", status="200") == 1
        assert sample(text, "toolcord_shard_ready", shard="0") == 1
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(url + "/healthz")


async def wait_for_metric(url: str, name: str, **labels: str) -> str:
    """The metrics page once ``name`` has a sample with ``labels`` (the turn settles after the
    reply is visible in Discord)."""
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while True:
        _, _, text = await get(url + "/metrics")
        if sample(text, name, **labels) or asyncio.get_running_loop().time() > deadline:
            return text
        await asyncio.sleep(0.05)
