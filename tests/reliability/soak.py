"""L5 soak: a steady message rate for a long time; memory, tasks, connections and lag stay flat.

The bot runs in its own process (``soak_child.py``) so its figures are its own: resident memory,
open file descriptors, sockets and threads come from ``/proc``; the asyncio task count and the
event loop's lag come from a probe inside it. The driver sends ``rate_per_s`` messages a second,
round-robin over channels, without waiting for answers (a steady offered load). Growth is judged
between the first and the last third of the run, after a warm-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.testing.bot_process import READY_LINE, SETTINGS_ENV
from bot.testing.discord import Channel
from bot.testing.openai import TextReply
from tests.reliability.rig import (
    USER_DEADLINE_S,
    Rig,
    ask,
    last_user_text,
    open_rig,
    poll_until,
    replies_by_source,
    scratch_dir,
    token_in,
)
from tests.reliability.soak_child import REPORT_PREFIX

ROOT = Path(__file__).resolve().parents[2]
TOKEN = re.compile(r"S\d+")
PROBE_FIELD = re.compile(r"(\w+)=([\d.]+)")
WARMUP_FRACTION = 0.2


@dataclass(frozen=True)
class SoakPlan:
    """How long, how fast, over how many conversations."""

    seconds: float = 1800.0
    rate_per_s: float = 10.0
    channels: int = 20
    sample_s: float = 2.0
    seed: int = 30
    # A small window budget makes the windows reach their steady size within minutes, so the run
    # measures leaks at steady state rather than the cost of ever longer prompts.
    context_tokens: int = 4000


@dataclass
class Sample:
    """The bot process at one moment."""

    at: float
    rss_mb: float
    fds: int
    sockets: int
    threads: int
    tasks: int
    lag_p99_ms: float
    lag_max_ms: float
    cpu_s: float


class SoakProcess:
    """The bot in a child process, with its probe lines parsed as they come."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.probe: dict[str, float] = {}
        self.tracebacks = 0
        self.ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, settings: dict[str, Any]) -> SoakProcess:
        env = dict(os.environ)
        env[SETTINGS_ENV] = json.dumps(settings)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.reliability.soak_child",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            if line.endswith(READY_LINE):
                self.ready.set()
            elif line.startswith(REPORT_PREFIX):
                self.probe = {k: float(v) for k, v in PROBE_FIELD.findall(line)}
            self.tracebacks += "Traceback (most recent call last)" in line

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await asyncio.wait_for(self._reader, 20)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds ``pid`` has used (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_figures(pid: int) -> tuple[float, int, int, int]:
    """Resident MiB, open descriptors, sockets and threads of ``pid`` (Linux ``/proc``)."""
    rss_kb = threads = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kb = int(line.split()[1])
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    fds = sockets = 0
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        fds += 1
        try:
            sockets += os.readlink(entry).startswith("socket:")
        except OSError:
            continue  # closed while listing
    return rss_kb / 1024, fds, sockets, threads


def model_answers(seed: int) -> Any:
    chooser = random.Random(seed)

    def answer(request: dict[str, Any]) -> TextReply:
        token = token_in(last_user_text(request), TOKEN) or "none"
        return TextReply(f"answer {token}", latency=chooser.uniform(0.2, 1.0))

    return answer


async def _drive(
    rig: Rig, channels: list[Channel], plan: SoakPlan, sources: dict[str, int]
) -> None:
    """Offer ``rate_per_s`` messages a second until the time is up (pacing, not syncing)."""
    loop = asyncio.get_running_loop()
    interval = 1.0 / plan.rate_per_s
    started = next_at = loop.time()
    number = 0
    while loop.time() - started < plan.seconds:
        token = f"S{number}"
        payload = await ask(rig.discord, channels[number % len(channels)], "alice", f"soak {token}")
        sources[token] = int(payload["id"])
        number += 1
        next_at += interval
        await asyncio.sleep(max(0.0, next_at - loop.time()))


async def _sample(bot: SoakProcess, samples: list[Sample], every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        rss, fds, sockets, threads = proc_figures(bot.process.pid)
        probe = bot.probe
        samples.append(
            Sample(
                time.monotonic(),
                rss,
                fds,
                sockets,
                threads,
                int(probe.get("tasks", 0)),
                probe.get("lag_p99_ms", 0.0),
                probe.get("lag_max_ms", 0.0),
                cpu_seconds(bot.process.pid),
            )
        )


@dataclass
class Outcome:
    lost: int = 0
    duplicated: int = 0
    checked: int = 0
    errors: list[str] = field(default_factory=list)


def _outcome(rig: Rig, channels: list[Channel], sources: dict[str, int]) -> Outcome:
    replies = replies_by_source(rig.discord, channels)
    outcome = Outcome(checked=len(sources))
    for token, source in sources.items():
        right = [m for m in replies.get(source, []) if m.content == f"answer {token}"]
        outcome.lost += not right
        outcome.duplicated += len(replies.get(source, [])) > 1
    return outcome


def flatness(samples: list[Sample]) -> dict[str, Any]:
    """Compare the first and last third of the run after the warm-up."""
    steady = samples[int(len(samples) * WARMUP_FRACTION) :]
    third = max(1, len(steady) // 3)
    first, last = steady[:third], steady[-third:]

    def median(values: list[float]) -> float:
        return float(statistics.median(values)) if values else 0.0

    rss_first, rss_last = median([s.rss_mb for s in first]), median([s.rss_mb for s in last])
    lag = sorted(s.lag_p99_ms for s in steady)
    span = steady[-1].at - steady[0].at if len(steady) > 1 else 0.0
    cpu = steady[-1].cpu_s - steady[0].cpu_s if len(steady) > 1 else 0.0
    return {
        "samples": len(samples),
        "rss_first_mb": round(rss_first, 1),
        "rss_last_mb": round(rss_last, 1),
        "rss_growth_pct": round((rss_last - rss_first) / rss_first * 100, 1) if rss_first else None,
        "tasks_first_max": max((s.tasks for s in first), default=0),
        "tasks_last_max": max((s.tasks for s in last), default=0),
        "sockets_first_max": max((s.sockets for s in first), default=0),
        "sockets_last_max": max((s.sockets for s in last), default=0),
        "fds_first_max": max((s.fds for s in first), default=0),
        "fds_last_max": max((s.fds for s in last), default=0),
        "threads_last_max": max((s.threads for s in last), default=0),
        "lag_p99_ms": _p99(lag),
        "lag_p99_first_third_ms": _p99(sorted(s.lag_p99_ms for s in first)),
        "lag_p99_last_third_ms": _p99(sorted(s.lag_p99_ms for s in last)),
        "lag_max_ms": max((s.lag_max_ms for s in steady), default=None),
        "bot_cpu_pct": round(cpu / span * 100, 1) if span else None,
        "series_by_sixth": _series(samples),
    }


def _series(samples: list[Sample]) -> dict[str, list[float]]:
    """Maxima per sixth of the run: a pool that filled up levels off, a leak keeps climbing."""
    size = max(1, -(-len(samples) // 6))
    parts = [samples[i : i + size] for i in range(0, len(samples), size)]
    return {
        "rss_mb": [round(max(s.rss_mb for s in part), 1) for part in parts],
        "tasks": [max(s.tasks for s in part) for part in parts],
        "sockets": [max(s.sockets for s in part) for part in parts],
        "lag_p99_ms": [round(max(s.lag_p99_ms for s in part), 1) for part in parts],
    }


def _p99(ordered: list[float]) -> float | None:
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else None


async def run_soak(plan: SoakPlan) -> dict[str, Any]:
    """Run the soak and return its figures (see the module docstring)."""
    sources: dict[str, int] = {}
    samples: list[Sample] = []
    with scratch_dir("soak") as scratch:
        async with open_rig(scratch) as rig:
            channels = [
                rig.discord.add_channel(rig.discord.guild, f"soak-{n}")
                for n in range(plan.channels)
            ]
            rig.openai.chat.set_default(model_answers(plan.seed))
            values = rig.harness.settings_values(
                log_level="WARNING", openai={"context_tokens": plan.context_tokens}
            )
            bot = await SoakProcess.start(values)
            sampler: asyncio.Task[None] | None = None
            try:
                await asyncio.wait_for(bot.ready.wait(), 60)
                sampler = asyncio.create_task(_sample(bot, samples, plan.sample_s))
                driving = time.monotonic()
                await _drive(rig, channels, plan, sources)
                driven_s = time.monotonic() - driving
                await _settle(rig, channels, sources)
            finally:
                if sampler is not None:
                    sampler.cancel()
                await bot.stop()
            outcome = _outcome(rig, channels, sources)
    return {
        "minutes": round(plan.seconds / 60, 2),
        "rate_per_s": plan.rate_per_s,
        "achieved_rate_per_s": round(outcome.checked / driven_s, 2),
        "context_tokens": plan.context_tokens,
        "messages": outcome.checked,
        "lost": outcome.lost,
        "duplicated": outcome.duplicated,
        "unhandled_exceptions": bot.tracebacks + rig.watch.count,
        **flatness(samples),
    }


async def _settle(rig: Rig, channels: list[Channel], sources: dict[str, int]) -> None:
    """Wait (bounded) until every message has its answer; what stays missing counts as lost."""
    with contextlib.suppress(TimeoutError):
        await poll_until(lambda: _outcome(rig, channels, sources).lost == 0, USER_DEADLINE_S, 0.5)


def soak_counts_ok(figures: dict[str, Any]) -> bool:
    """The count gates (what the short test run asserts): nothing lost, nothing leaking."""
    return (
        figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["unhandled_exceptions"] == 0
        and figures["tasks_last_max"] <= figures["tasks_first_max"] * 1.5 + 10
        and figures["sockets_last_max"] <= figures["sockets_first_max"] + 10
        and figures["fds_last_max"] <= figures["fds_first_max"] + 10
    )


def soak_ok(figures: dict[str, Any]) -> bool:
    """The full gate: the counts, RSS growth under 10 %, loop lag p99 under 100 ms."""
    growth = figures["rss_growth_pct"]
    lag = figures["lag_p99_ms"]
    return (
        soak_counts_ok(figures)
        and growth is not None
        and growth < 10
        and lag is not None
        and lag < 100
    )
