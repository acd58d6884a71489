"""Quota bypass attempts (issue 16, finding 3): each tries one way past a spent budget.

* ``forget``: a user over the monthly budget (spent earlier this month) runs /forget-me, then
  asks again: before the fix only today's spending was kept, and the user was answered.
* ``voice``: with the global budget spent, /transcribe and a voice message: before the fix both
  reached the transcription endpoint (and were recorded at 0 tokens).
* ``rules``: one turn with written server rules makes 3 model calls; before the fix only the
  answer's tokens reached the ledger.
* ``parallel``: parallel turns of many rounds against a small budget (``quota_parallel``), with
  rounds that cost their estimate and (``parallel_underestimated``) rounds that cost 5 times it.

A bypass is a model call a spent budget should have stopped, or tokens the ledger missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.policy.usage import window_start
from bot.store import Usage
from bot.testing.openai import TextReply
from bot.testing.openai.media.ogg import silent_ogg_opus
from cogs.admin import sync_commands
from tests.reliability.quota_parallel import NO_LIMIT, ParallelPlan, run_parallel_turns
from tests.reliability.rig import USER_DEADLINE_S, Rig, ask, open_rig, replying_to, scratch_dir

CHAT = "/v1/chat/completions"
TRANSCRIPTIONS = "/v1/audio/transcriptions"
VERDICT = json.dumps({"violating": False, "rule": None, "why": "Fine."})
ROUND_USAGE = {"prompt_tokens": 2000, "completion_tokens": 42}


def _quotas(**budgets: int) -> dict[str, Any]:
    return {"quotas": {"enabled": True, **NO_LIMIT, "global_daily_tokens": 0, **budgets}}


def _spend_at(path: Path, user_id: int, tokens: int, moment: datetime) -> None:
    """A ledger row written at ``moment`` (earlier this month), as the bot would have."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO usage (user_id, guild_id, model, prompt_tokens, created_at) "
            "VALUES (?, NULL, 'm', ?, ?)",
            (user_id, tokens, int(moment.timestamp() * 1000)),
        )


async def _forget(rig: Rig) -> dict[str, Any]:
    emu = rig.discord
    bob = emu.user("bob")
    async with rig.harness.run(**_quotas(user_monthly_tokens=1000)) as bot:
        await sync_commands(bot)
        start = window_start("month", datetime.now(UTC))
        _spend_at(Path(bot.settings.store_dsn()), bob.id, 1200, start)
        handle = await emu.inject_interaction(
            "forget-me",
            user=bob,
            channel="general",
            options={"confirm": "delete everything about me"},
        )
        await handle.wait(lambda h: "Done" in (h.final_content() or ""), timeout=USER_DEADLINE_S)
        source = await ask(emu, emu.channel("general"), bob, "answer me anyway")
        reply = await emu.wait_for_message(
            "general", replying_to(int(source["id"])), timeout=USER_DEADLINE_S
        )
    calls = rig.openai.attempts(CHAT)
    return {"model_calls": calls, "refused": "monthly budget" in reply.content, "bypass": calls > 0}


async def _voice(rig: Rig) -> dict[str, Any]:
    emu = rig.discord
    bob = emu.user("bob")
    dm = emu.dm_channel(bob)
    upload = emu.attachment("note.ogg", silent_ogg_opus(3.0), "audio/ogg")
    async with rig.harness.run(**_quotas(global_daily_tokens=1000)) as bot:
        await sync_commands(bot)
        await bot.services.store.record_usage(
            Usage("m", prompt_tokens=1000), user_id=999, guild_id=None
        )
        handle = await emu.inject_interaction(
            "transcribe", user="alice", channel="general", options={"file": upload}
        )
        await handle.wait_original_edit(timeout=USER_DEADLINE_S)
        source = await emu.inject_voice_message(dm, bob, silent_ogg_opus(2.0), duration_secs=2.0)
        await emu.wait_for_message(dm, replying_to(int(source["id"])), timeout=USER_DEADLINE_S)
    calls = rig.openai.attempts(TRANSCRIPTIONS) + rig.openai.attempts(CHAT)
    return {"transcription_attempts": 2, "model_calls": calls, "bypass": calls > 0}


async def _rules(rig: Rig) -> dict[str, Any]:
    emu = rig.discord
    rig.openai.chat.set_default(TextReply(VERDICT, usage=ROUND_USAGE))
    settings = {**_quotas(), "moderation": {"mode": "flag", "rules": "Be kind."}}
    async with rig.harness.run(**settings) as bot:
        source = await ask(emu, emu.channel("general"), "alice", "hello there")
        await emu.wait_for_message(
            "general", replying_to(int(source["id"])), timeout=USER_DEADLINE_S
        )
        quotas: Any = bot.services.quotas
        store = bot.services.store
        async with asyncio.timeout(USER_DEADLINE_S):
            while quotas.running or (await store.usage_totals()).requests < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        recorded = (await store.usage_totals()).total_tokens
    reported = len(rig.openai.chat.requests) * sum(ROUND_USAGE.values())
    return {
        "model_calls": len(rig.openai.chat.requests),
        "reported_tokens": reported,
        "recorded_tokens": recorded,
        "bypass": recorded < reported,
    }


async def run_quota_bypass(plan: ParallelPlan) -> dict[str, Any]:
    """Run every attempt, each on fresh emulators and a fresh store; returns the figures."""
    figures: dict[str, Any] = {}
    for name, attempt in (("forget", _forget), ("voice", _voice), ("rules", _rules)):
        with scratch_dir(f"quota-{name}") as workdir:
            async with open_rig(workdir) as rig:
                figures[name] = await attempt(rig)
                figures[name]["unhandled_exceptions"] = rig.watch.count
    dear = replace(plan, reserve_tokens=plan.round_tokens // 5)
    for name, chosen in (("parallel", plan), ("parallel_underestimated", dear)):
        with scratch_dir(f"quota-{name}") as workdir:
            async with open_rig(workdir) as rig:
                found = await run_parallel_turns(rig.discord, rig.openai, rig.harness, chosen)
                found["bypass"] = found["spent"] > found["bound"]
                found["unhandled_exceptions"] = rig.watch.count
                figures[name] = found
    attempts = ("forget", "voice", "rules", "parallel", "parallel_underestimated")
    worst = max(("parallel", "parallel_underestimated"), key=lambda n: figures[n]["overshoot"])
    return {
        **figures,
        "attempts": len(attempts),
        "bypasses": sum(int(figures[name]["bypass"]) for name in attempts),
        "worst_overshoot": figures[worst]["overshoot"],
        "worst_overshoot_in": worst,
        "budget": figures[worst]["budget"],
        "bound": figures[worst]["bound"],
        "unhandled_exceptions": sum(figures[name]["unhandled_exceptions"] for name in attempts),
    }


def quota_ok(figures: dict[str, Any]) -> bool:
    """The gate: no bypass, the overshoot within the stated bound, no unhandled exception."""
    return (
        figures["bypasses"] == 0
        and figures["budget"] + figures["worst_overshoot"] <= figures["bound"]
        and figures["unhandled_exceptions"] == 0
    )
