"""The shape of toolcord's runtime code: ``python -m tests.bench.code_shape [--json]``.

Issue 19's before/after figures, measured the same way each time:

* runtime lines: ``bot/`` (without the test kit ``bot/testing``), ``cogs/`` and ``tools/``, all
  lines and code lines (not blank, not only a comment);
* ``duplicates`` pairs in runtime code (the library's ``duplicates`` command on a copy of just those
  files, so tests and the test kit do not count);
* calls of the builtin ``getattr`` in runtime code (an AST count);
* places a conversation key is computed: ``bot/store/keys.py`` plus every runtime function outside
  it that derives a key itself (calls one of its parts, ``dm_key``/``thread_key``/``channel_key``,
  or writes a key's f-string); calling ``keys.conversation_key`` is using the one place;
* store methods written per dialect: methods defined in the SQLite-only and in the PostgreSQL-only
  store modules;
* modules a message crosses from the gateway to the first model request: the real bot on the
  emulators, traced with ``sys.setprofile`` from the moment a mention is injected until the model
  server holds the request; the runtime modules whose functions ran, in the order first entered,
  and the front door's path: the switches between modules before the conversation service first
  runs (a coroutine resumed after an await counts as entering its module again, so the path reads
  as "where the code ran", not as a static call graph).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from .children import REPO_ROOT

RUNTIME_ROOTS = ("bot", "cogs", "tools")
SERVICE_MODULE = "bot/conversation"  # the conversation service: where the front door ends
KEY_BUILDERS = {
    "dm_key",
    "thread_key",
    "channel_key",
}  # keys.py's parts; conversation_key uses them
KEY_FSTRING = re.compile(r"^(dm|thread|guild):")
DIALECT_FILES = {
    "sqlite": re.compile(r"^bot/store/(.*sqlite.*|.*_sqlite)\.py$"),
    "postgres": re.compile(r"^bot/store/(.*postgres.*|.*_postgres)\.py$"),
}


def runtime_files(root: Path = REPO_ROOT) -> list[Path]:
    """The runtime modules git tracks (the test kit excluded), relative to ``root``."""
    listed = subprocess.run(
        ["git", "ls-files", *[f"{name}/*.py" for name in RUNTIME_ROOTS]],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [Path(name) for name in listed if not name.startswith("bot/testing/")]


def line_counts(root: Path, files: list[Path]) -> dict[str, int]:
    """All lines and code lines of ``files``."""
    total = code = 0
    for path in files:
        for line in (root / path).read_text(encoding="utf-8").splitlines():
            total += 1
            stripped = line.strip()
            code += bool(stripped) and not stripped.startswith("#")
    return {"runtime_lines": total, "runtime_code_lines": code}


def _trees(root: Path, files: list[Path]) -> Iterator[tuple[Path, ast.Module]]:
    for path in files:
        yield path, ast.parse((root / path).read_text(encoding="utf-8"), str(path))


def getattr_calls(root: Path, files: list[Path]) -> int:
    """Calls of the builtin ``getattr`` in ``files``."""
    return sum(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
        for _, tree in _trees(root, files)
        for node in ast.walk(tree)
    )


def key_computations(root: Path, files: list[Path]) -> list[str]:
    """``path:function`` of every runtime function that computes a conversation key."""
    found: list[str] = []
    for path, tree in _trees(root, files):
        if path.as_posix() == "bot/store/keys.py":
            continue
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) and _builds_key(
                function
            ):
                found.append(f"{path.as_posix()}:{function.name}")
    return found


def _builds_key(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in KEY_BUILDERS:
                return True
        if isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and KEY_FSTRING.match(str(first.value)):
                return True
    return False


def dialect_methods(root: Path, files: list[Path]) -> dict[str, int]:
    """Methods of the dialect-only store modules: each dialect's, and those written in both."""
    names: dict[str, set[str]] = {dialect: set() for dialect in DIALECT_FILES}
    for path, tree in _trees(root, files):
        for dialect, pattern in DIALECT_FILES.items():
            if pattern.match(path.as_posix()):
                names[dialect] |= {
                    item.name
                    for node in ast.walk(tree)
                    if isinstance(node, ast.ClassDef)
                    for item in node.body
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
                }
    both = set.intersection(*names.values())
    return {**{d: len(n) for d, n in names.items()}, "written_in_both": len(both)}


def duplicate_pairs(root: Path, files: list[Path]) -> str:
    """The first line of ``duplicates`` over a copy of the runtime files only."""
    if shutil.which("duplicates") is None:
        return "duplicates: not on PATH"
    with tempfile.TemporaryDirectory(prefix="toolcord-shape-") as folder:
        for path in files:
            target = Path(folder) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / path, target)
        listed = subprocess.run(
            ["duplicates", "--repo", folder, "--most", "200", "--seconds", "120"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    return listed.splitlines()[0] if listed else "duplicates: no output"


async def modules_crossed(root: Path = REPO_ROOT) -> list[str]:
    """The runtime modules code ran in between an injected mention and the model request.

    In order, one entry per switch from one module to another (a module re-entered after
    another ran appears again).
    """
    from bot.testing.discord import DiscordEmulator
    from bot.testing.harness import BotHarness
    from bot.testing.openai import OpenAIEmulator

    runtime_prefixes = tuple(str(root / name) + "/" for name in RUNTIME_ROOTS)
    excluded = str(root / "bot" / "testing") + "/"
    entered: list[str] = []  # the module of every call, in order
    requests: list[Any] = []  # the model server's requests, once it runs

    def note(frame: FrameType, event: str, _arg: Any) -> None:
        filename = frame.f_code.co_filename
        if requests:
            return
        runtime = filename.startswith(runtime_prefixes) and not filename.startswith(excluded)
        if event == "call" and runtime:
            module = Path(filename).relative_to(root).with_suffix("").as_posix()
            if not entered or entered[-1] != module:
                entered.append(module)

    with tempfile.TemporaryDirectory(prefix="toolcord-shape-") as folder:
        async with DiscordEmulator() as discord_emu, OpenAIEmulator() as openai_emu:
            openai_emu.chat.reply_text("hello")
            requests = openai_emu.chat.requests
            harness = BotHarness(
                discord_emu, openai_emu, Path(folder), overrides={"openai": {"api_dialect": "chat"}}
            )
            async with harness.run():
                channel = discord_emu.channel("general")
                text = f"<@{discord_emu.bot_user.id}> hello"
                sys.setprofile(note)
                try:
                    await discord_emu.inject_message(
                        channel, discord_emu.user("alice"), text, mentions=[discord_emu.bot_user]
                    )
                    await discord_emu.wait_until(
                        lambda: bool(openai_emu.chat.requests) or None, timeout=30
                    )
                finally:
                    sys.setprofile(None)
    return entered


def measure(root: Path = REPO_ROOT) -> dict[str, Any]:
    """Every figure of the module docstring."""
    files = runtime_files(root)
    keys = key_computations(root, files)
    path = asyncio.run(modules_crossed(root))
    crossed = list(dict.fromkeys(path))
    front_door = path[: path.index(SERVICE_MODULE)] if SERVICE_MODULE in path else path
    return {
        **line_counts(root, files),
        "runtime_files": len(files),
        "duplicates": duplicate_pairs(root, files),
        "getattr_calls": getattr_calls(root, files),
        "key_computations": 1 + len(keys),
        "key_computed_in": keys,
        "store_methods_per_dialect": dialect_methods(root, files),
        "modules_crossed": len(crossed),
        "modules_before_the_service": len(set(front_door)),
        "front_door_path": front_door,
        "modules_crossed_in_order": crossed,
    }


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    figures = measure()
    if parser.parse_args().json:
        print(json.dumps(figures, indent=2))
        return
    for name, value in figures.items():
        print(f"{name:28} {value}")


if __name__ == "__main__":
    main()
