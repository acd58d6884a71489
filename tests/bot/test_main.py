"""The command line: clear start-up errors and `check`."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import application_id_from_token

ROOT = Path(__file__).resolve().parents[2]
FAKE_TOKEN = (
    base64.b64encode(b"123456789012345678").decode().rstrip("=")
    + ".GaBcDe.abcdefghijklmnopqrstuvwxyz012345"
)


def _run(args: list[str], env_extra: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TOOLCORD_") and key not in {"DISCORD_TOKEN", "OPENAI_API_KEY"}
    }
    env.update(env_extra)
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_token_is_one_sentence_without_traceback(tmp_path: Path) -> None:
    result = _run([], {}, tmp_path)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "DISCORD_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_openai_key_names_it(tmp_path: Path) -> None:
    result = _run([], {"DISCORD_TOKEN": FAKE_TOKEN}, tmp_path)
    assert result.returncode != 0
    assert "OPENAI_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_token_is_refused_before_connecting(tmp_path: Path) -> None:
    result = _run([], {"DISCORD_TOKEN": "not-a-token", "OPENAI_API_KEY": "sk-x"}, tmp_path)
    assert result.returncode != 0
    assert "DISCORD_TOKEN does not look like a bot token" in result.stderr


def test_bad_config_is_reported_plainly(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[chat]\nmax_rounds = 'x'\n")
    result = _run(["check", "--config", "bad.toml"], {}, tmp_path)
    assert result.returncode == 2
    assert "chat.max_rounds" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_with_the_example_config_passes(tmp_path: Path) -> None:
    example = ROOT / "config" / "bot.example.toml"
    result = _run(
        ["check", "--config", str(example)],
        {"DISCORD_TOKEN": FAKE_TOKEN, "OPENAI_API_KEY": "sk-test"},
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert '"chat_model": "gpt-5.4-mini"' in result.stdout
    assert '"api_dialect": "responses"' in result.stdout  # OpenAI itself: no base_url set
    assert "weather" in result.stdout
    assert "client_id=123456789012345678" in result.stdout
    search = '"knowledge_search": "SQLite: FTS5 full text + exact cosine vector search'
    assert search in result.stdout
    assert FAKE_TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("token", "expected"),
    [(FAKE_TOKEN, 123456789012345678), ("abc", None), ("!!!.x.y", None)],
)
def test_application_id_from_token(token: str, expected: int | None) -> None:
    assert application_id_from_token(token) == expected
