"""The benchmark harness itself works: every phase runs with tiny counts and reports its figures.

This is not a benchmark: it asserts nothing about speed, only that each figure was measured.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench import report, tool_tokens
from tests.bench.__main__ import PHASES, run
from tests.bench.counts import SMOKE

FIGURES = (
    "seq_cost_ratio",
    "pipelined_throughput_ratio",
    "tool_seq_cost_ratio",
    "concurrency_500_wall_s",
    "context_build_ratio",
    "rss_idle_mb",
    "rss_per_1000_conversations_mb",
    "defer_p99_ms",
    "first_text_ms",
    "echo_sequential_per_s",
    "chat_sequential_per_s",
    "echo_pipelined_per_s",
    "chat_pipelined_per_s",
    "tool_sequential_per_s",
    "tool_schema_tokens_per_request",
    "tool_phase_schema_tokens_per_request",
)


async def test_every_phase_runs_and_reports_its_figures(tmp_path: Path) -> None:
    lines: list[str] = []
    results = await run(SMOKE, "smoke", set(PHASES), lines.append)
    path = report.write(results, tmp_path)

    written = json.loads(path.read_text(encoding="utf-8"))
    missing = [key for key in FIGURES if not isinstance(written.get(key), int | float)]
    assert not missing, f"figures not measured: {missing}"
    assert written["machine"]["cpu_count"]
    assert written["machine"]["versions"]["discord.py"]
    assert set(written["targets"]) == set(report.TARGETS)
    assert set(written["phases"]) >= {"echo", "chat", "tools", "dialects", "floors"}
    for dialect in ("chat", "responses"):  # both dialects ran both kinds of turn
        turns = written["phases"]["dialects"][dialect]
        assert turns["chat_turn"]["turns"] == SMOKE.sequential
        assert turns["tool_turn"]["turns"] == SMOKE.tool_sequential
    assert written["phases"]["chat"]["sequential"]["turns"] == SMOKE.sequential
    assert report.summary(written).count("\n") == len(report.TARGETS)
    per_request = written["tool_schema_tokens_per_request"]
    assert written["tool_schema_tools"] == 8  # the built-in set of issue 17 ("all 8 schemas")
    assert per_request > written["tool_phase_schema_tokens_per_request"] > 0
    # each tool turn is two requests, each carrying the phase's set: the ledger says so
    phase_set = written["tool_phase_schema_tokens_per_request"]
    assert written["tool_turn_schema_tokens"] == 2 * phase_set
    assert tool_tokens.line(written) == (
        f"tool definitions per request: {per_request:,} tokens for the default set of 8 tools "
        f"({written['tool_schema_bytes']:,} bytes), {phase_set:,} for the tool phase's set; "
        f"its turns recorded {2 * phase_set:,} of {written['tool_turn_prompt_tokens']:,g} "
        "prompt tokens per turn"
    )
