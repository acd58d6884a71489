"""``python -m tests.reliability``: prints the figures as JSON and writes them to a file."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


async def test_the_command_prints_and_writes_the_figures(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.reliability",
        "--quick",
        "--only",
        "ssrf",
        "--out",
        str(out),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)

    assert process.returncode == 0, stderr.decode()
    printed = json.loads(stdout)
    assert printed["ok"] is True
    assert printed["figures"]["ssrf"]["connections_to_denied_addresses"] == 0
    assert "SSRF variants" in printed["headline"]["ssrf"]
    assert json.loads(out.read_text())["figures"] == printed["figures"]
