"""Run the reliability suite and print its headline figures as JSON.

    python -m tests.reliability                 # every scenario at full size (~15 min)
    python -m tests.reliability --quick         # smaller counts (~4 min)
    python -m tests.reliability --only load,ssrf
    python -m tests.reliability soak --minutes 30 [--rate 10]

The figures go to stdout and to ``reliability-results.json`` at the repository root (a soak run
adds its figures under ``"soak"``). The exit code is 0 when every gate held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.testing.netguard import NetGuard
from tests.reliability.figures import SCENARIOS, run_scenario
from tests.reliability.soak import SoakPlan, run_soak, soak_ok

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "reliability-results.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability", description=__doc__)
    parser.add_argument("command", nargs="?", default="suite", choices=("suite", "soak"))
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--minutes", type=float, default=30.0, help="soak length")
    parser.add_argument("--rate", type=float, default=10.0, help="soak messages per second")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="log warnings to stderr")
    return parser


async def _suite(quick: bool, only: set[str]) -> dict[str, Any]:
    chosen = [s for s in SCENARIOS if not only or s.name in only]
    unknown = only - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(
            f"unknown scenario(s) {sorted(unknown)}; pick from {[s.name for s in SCENARIOS]}"
        )
    figures: dict[str, Any] = {}
    for scenario in chosen:
        print(f"reliability: running {scenario.name} ...", file=sys.stderr, flush=True)
        figures[scenario.name] = await run_scenario(scenario, quick=quick)
        print(
            f"reliability: {scenario.name}: {figures[scenario.name].get('headline')}",
            file=sys.stderr,
        )
    return {
        "mode": "quick" if quick else "full",
        "ok": all(f["ok"] for f in figures.values()),
        "headline": {name: f.get("headline") or f.get("crashed") for name, f in figures.items()},
        "figures": figures,
    }


async def _soak(minutes: float, rate: float) -> dict[str, Any]:
    figures = await run_soak(SoakPlan(seconds=minutes * 60, rate_per_s=rate))
    figures["ok"] = soak_ok(figures)
    return figures


def _write(path: Path, results: dict[str, Any], *, soak: bool) -> None:
    """Write the figures; a soak run keeps the suite's figures and the suite keeps the soak's."""
    existing: dict[str, Any] = {}
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except json.JSONDecodeError:
            existing = {}
    merged = {**existing, "soak": results} if soak else {**results, "soak": existing.get("soak")}
    path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.WARNING)
    NetGuard().install()
    started = time.monotonic()
    if args.command == "soak":
        results = asyncio.run(_soak(args.minutes, args.rate))
    else:
        only = {name.strip() for name in args.only.split(",") if name.strip()}
        results = asyncio.run(_suite(args.quick, only))
    results["generated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["seconds"] = round(time.monotonic() - started, 1)
    _write(args.out, results, soak=args.command == "soak")
    print(json.dumps(results, indent=2, ensure_ascii=False))
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
