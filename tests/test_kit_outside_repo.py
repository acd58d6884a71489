"""The test kit as a bot owner meets it: a project outside this repository, a fresh venv with
``toolcord[testing]`` installed from this checkout, the README's examples written as the owner's
own files, and pytest run there with no configuration of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
NOT_PACKAGED = (".git", ".venv", "data", "build", "*.egg-info", "__pycache__", ".*_cache", "tests")


def _blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def _block(language: str, marker: str) -> str:
    return next(block for block in _blocks(language) if marker in block)


def _owner_env() -> dict[str, str]:
    """The environment of an owner's shell: nothing of this repository's test run."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "DISCORD_TOKEN", "OPENAI_API_KEY"}
    return {
        key: value
        for key, value in os.environ.items()
        if key not in drop and not key.startswith(("TOOLCORD_", "PYTEST_"))
    }


def _run(args: list[str | Path], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=_owner_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _write_project(project: Path) -> None:
    (project / "config").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "dice.py").write_text(_block("python", "def roll_dice"))
    (project / "config" / "bot.toml").write_text(_block("toml", "[tools]"))
    (project / "tests" / "test_mention.py").write_text(
        _block("python", "def test_the_bot_answers_a_mention")
    )
    (project / "tests" / "test_dice.py").write_text(
        _block("python", "def test_the_model_rolls_my_dice")
    )


def test_an_owner_project_passes_the_readme_examples(tmp_path: Path) -> None:
    source = tmp_path / "toolcord"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*NOT_PACKAGED), symlinks=True)
    project = tmp_path / "my-bot"
    _write_project(project)
    venv = tmp_path / "venv"
    started = time.monotonic()
    made = _run([sys.executable, "-m", "venv", venv], tmp_path, timeout=300)
    assert made.returncode == 0, made.stderr
    installed = _run(
        [venv / "bin" / "python", "-m", "pip", "install", "--quiet", f"{source}[testing]"],
        tmp_path,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    setup_s = time.monotonic() - started

    result = _run(
        [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider"], project, 600
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b2 passed\b", result.stdout), result.stdout
    assert "warning" not in result.stdout.lower(), result.stdout
    _check_with_the_console_script(venv, project)
    print(f"fresh venv + pip install toolcord[testing]: {setup_s:.0f} s")


def _check_with_the_console_script(venv: Path, project: Path) -> None:
    """``toolcord check`` (the console script, not python -m) finds dice.py in the project."""
    check = _run([venv / "bin" / "toolcord", "check"], project, 120)
    assert check.returncode == 1, check.stdout + check.stderr  # no DISCORD_TOKEN: said, not hidden
    assert '"roll_dice"' in check.stdout, check.stderr
    assert check.stderr.startswith("toolcord: DISCORD_TOKEN is not set"), check.stderr
