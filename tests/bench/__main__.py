"""Run every benchmark: ``python -m tests.bench [--quick] [--only NAME ...] [--out DIR]``.

Measures toolcord against a bare discord.py echo bot on the same Discord emulator (split layout:
each bot, and the OpenAI emulator, in a process of its own), then writes ``bench-results.json`` at
the repository root and prints the targets of toolcord issue 9. Benchmarks measure and print; they
never fail because the machine was slow. ``--quick`` finishes in under 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from . import (
    chat,
    concurrency,
    context_build,
    dialects,
    first_text,
    floors,
    memory,
    report,
    tool_tokens,
    tools_round,
)
from .children import REPO_ROOT
from .counts import FULL, QUICK, SMOKE, Counts
from .procstat import load_average

PHASES = (
    "chat",
    "tools",
    "dialects",
    "concurrency",
    "memory",
    "first_text",
    "context",
    "defer",
    "floors",
)
FLOOR_ROUNDS = {"quick": 300, "full": 1000, "smoke": 5}


async def run(
    counts: Counts, mode: str, only: set[str], log: Callable[[str], None]
) -> dict[str, Any]:
    """Run the chosen phases; returns the results document."""
    results: dict[str, Any] = {"mode": mode, "machine": report.machine(), "phases": {}}
    phases: dict[str, Any] = results["phases"]

    async def phase(name: str, work: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        started = time.monotonic()
        log(f"[bench] {name} ...")
        figures = await work()
        log(f"[bench] {name} done in {time.monotonic() - started:.1f} s")
        phases[name] = figures
        return figures

    if "chat" in only or "tools" in only:
        echo = await phase("echo", lambda: chat.measure_echo(counts))
        results["echo_rss_idle_mb"] = echo["rss_idle_mb"]
    if "chat" in only:
        toolcord = await phase("chat", lambda: chat.measure_toolcord(counts))
        results.update(chat.ratios(echo, toolcord))
    if "tools" in only:
        tool = await phase("tools", lambda: tools_round.measure(counts))
        results.update(tools_round.ratio(echo, tool))
        results.update(tool_tokens.measure())  # issue 17: what the definitions add per request
    if "dialects" in only:
        both = await phase("dialects", lambda: dialects.measure(counts))
        results.update(dialects.ratios(both))
    if "concurrency" in only:
        burst = await phase("concurrency", lambda: concurrency.measure(counts))
        results["concurrency_500_wall_s"] = burst["concurrency_500_wall_s"]
    if "memory" in only:
        rss = await phase("memory", lambda: memory.measure(counts))
        results["rss_idle_mb"] = rss["rss_idle_mb"]
        results["rss_per_1000_conversations_mb"] = rss["rss_per_1000_conversations_mb"]
    if "first_text" in only:
        streamed = await phase("first_text", lambda: first_text.measure(counts))
        results["first_text_ms"] = streamed["first_text_ms"]
    if "context" in only:
        window = await phase("context", lambda: _context(counts))
        results["context_build_ratio"] = window["context_build_ratio"]
    if "defer" in only:
        deferred = await phase("defer", _defer)
        results["defer_p99_ms"] = deferred.get("defer_p99_ms")
    if "floors" in only:
        floor = await phase("floors", lambda: floors.measure(FLOOR_ROUNDS[mode]))
        if "echo" in phases:
            results.update(floors.chat_floor(phases["echo"], floor))
    results["machine"]["load_average_at_end"] = load_average()
    results["targets"] = report.verdicts(results)
    return results


async def _context(counts: Counts) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="toolcord-bench-") as folder:
        return await context_build.measure(Path(folder), counts.context_repeats)


async def _defer() -> dict[str, Any]:
    """The slash-command defer benchmark (``tests/bench/defer.py``), when it is there."""
    try:
        from . import defer
    except ImportError as error:
        return {"defer_p99_ms": None, "note": f"tests/bench/defer.py is not available: {error}"}
    figures: dict[str, Any] = await defer.measure()
    return figures


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", action="store_true", help="smaller counts (< 3 min on 2 cores)")
    group.add_argument("--smoke", action="store_true", help="tiny counts: checks the bench runs")
    parser.add_argument("--only", nargs="+", choices=PHASES, help="run only these phases")
    parser.add_argument("--out", type=Path, default=REPO_ROOT, help="folder for the results")
    options = parser.parse_args()
    mode = "smoke" if options.smoke else "quick" if options.quick else "full"
    counts = {"smoke": SMOKE, "quick": QUICK, "full": FULL}[mode]
    started = time.monotonic()
    results = asyncio.run(run(counts, mode, set(options.only or PHASES), print))
    results["wall_s"] = round(time.monotonic() - started, 1)
    path = report.write(results, options.out)
    print(report.summary(results))
    tools_line = tool_tokens.line(results)
    if tools_line is not None:
        print(tools_line)
    print(f"[bench] wrote {path} in {results['wall_s']} s")


if __name__ == "__main__":
    main()
