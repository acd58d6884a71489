"""A new owner's first run is quiet and accurate: packaging, help text, scripts."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_license_is_an_spdx_string_with_a_setuptools_that_reads_it() -> None:
    # A license table makes setuptools >= 77 print a deprecation banner on every install.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "MIT"
    requires = project["build-system"]["requires"]
    assert any(re.fullmatch(r"setuptools>=(7[7-9]|[89]\d),<\d+", item) for item in requires)


def test_the_testing_extra_brings_what_the_plugin_imports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = [
        re.split(r"[<>=]", item)[0]
        for item in project["project"]["optional-dependencies"]["testing"]
    ]
    assert names == ["pytest", "pytest-asyncio"]


def test_help_speaks_to_the_owner_and_lists_the_exit_codes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "composition root" not in result.stdout
    assert "Run a toolcord Discord bot, check its configuration, or migrate its store." in (
        result.stdout
    )
    assert "  3  a tool module is broken" in result.stdout
    assert "--debug" in result.stdout


def test_the_scripts_name_files_that_exist() -> None:
    run = (ROOT / "scripts" / "run").read_text(encoding="utf-8")
    assert "copy config/.env.example" in run
    assert (ROOT / "config" / ".env.example").is_file()


def test_setup_says_it_is_setting_up_before_the_slow_part() -> None:
    setup = (ROOT / "scripts" / "setup").read_text(encoding="utf-8")
    announce = setup.index("toolcord: setting up .venv")
    assert announce < setup.index("-m venv .venv") < setup.index("pip install")
