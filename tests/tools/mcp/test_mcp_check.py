"""`python -m bot check` lists the MCP servers and their tools without starting Discord."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .peers import FIXTURE, ROOT

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz012345"


def check(
    config: str, tmp_path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "bot.toml").write_text(config)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TOOLCORD_")}
    clean.update({"DISCORD_TOKEN": TOKEN, "OPENAI_API_KEY": "sk-x", "PYTHONPATH": str(ROOT)})
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", "check", "--config", "bot.toml"],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_lists_servers_and_tools(tmp_path: Path) -> None:
    config = (
        "[[mcp.servers]]\n"
        'name = "fixture"\n'
        f"command = {json.dumps(sys.executable)}\n"
        f"args = [{json.dumps(str(FIXTURE))}]\n"
        'include = ["echo", "image"]\n'
    )
    result = check(config, tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["mcp_servers"] == [
        {
            "name": "fixture",
            "transport": "stdio",
            "state": "connected",
            "tools": ["fixture__echo", "fixture__image"],
            "last_error": None,
        }
    ]


def test_check_reports_a_missing_secret_and_a_dead_server(tmp_path: Path) -> None:
    config = (
        "[mcp]\nstart_wait_s = 3\n"
        "[[mcp.servers]]\n"
        'name = "web"\n'
        'url = "http://127.0.0.1:9/mcp"\n'
        'headers = { Authorization = "env:WEB_TOKEN" }\n'
    )
    missing = check(config, tmp_path)
    assert missing.returncode == 1
    assert (
        "MCP server 'web': headers.Authorization reads the environment variable 'WEB_TOKEN', "
        "which is not set; set it before starting the bot." in missing.stderr
    )
    dead = check(config, tmp_path, {"WEB_TOKEN": "Bearer x"})
    assert dead.returncode == 1
    assert "MCP server 'web' did not connect (" in dead.stderr
    assert "Bearer x" not in dead.stdout + dead.stderr
