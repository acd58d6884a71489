"""The results file: figures, the targets of toolcord issue 9, versions and machine facts."""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .procstat import load_average

RESULTS_FILE = "bench-results.json"
PACKAGES = ("discord.py", "openai", "aiohttp", "httpx2", "aiosqlite")
# key: (comparison, target)
TARGETS: dict[str, tuple[str, float]] = {
    "seq_cost_ratio": ("<=", 2.5),
    "pipelined_throughput_ratio": (">=", 0.4),
    "tool_seq_cost_ratio": ("<=", 3.5),
    "responses_chat_cpu_ratio": ("<=", 1.2),
    "responses_tool_cpu_ratio": ("<=", 1.2),
    "concurrency_500_wall_s": ("<=", 1.3),
    "context_build_ratio": ("<=", 1.5),
    "defer_p99_ms": ("<=", 1000.0),
    "first_text_ms": ("<=", 100.0),
}


def machine() -> dict[str, Any]:
    """Core count, versions and the load average (other work on the machine skews figures)."""
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "platform": platform.platform(),
        "versions": {name: _version(name) for name in PACKAGES},
        "load_average_at_start": load_average(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def verdicts(results: dict[str, Any]) -> dict[str, Any]:
    """For each target: the figure, the target and whether it holds (None when not measured)."""
    table: dict[str, Any] = {}
    for key, (comparison, target) in TARGETS.items():
        value = results.get(key)
        held = None
        if isinstance(value, int | float):
            held = value <= target if comparison == "<=" else value >= target
        table[key] = {"value": value, "target": f"{comparison} {target:g}", "met": held}
    return table


def write(results: dict[str, Any], root: Path) -> Path:
    """Write ``bench-results.json`` at ``root``; returns its path."""
    path = root / RESULTS_FILE
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def summary(results: dict[str, Any]) -> str:
    """The target table as text."""
    lines = [f"{'figure':32} {'value':>12}  {'target':>10}  met"]
    for key, row in results["targets"].items():
        value = "-" if row["value"] is None else f"{row['value']:g}"
        met = {True: "yes", False: "NO", None: "n/a"}[row["met"]]
        lines.append(f"{key:32} {value:>12}  {row['target']:>10}  {met}")
    return "\n".join(lines)
