"""Store fault kinds (catalogue S2, S4): a cancelled write, a full disk, a damaged file at start."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bot.store import Store
from tests.reliability.faults import CaseResult, FaultCase, answered, still_healthy
from tests.reliability.rig import USER_DEADLINE_S, Rig, poll_until, settle

ROOT = Path(__file__).resolve().parents[2]
DISK_BYTES = 4 * 1024 * 1024
# A token shaped like a bot token (its first part is a user id in base64), for `python -m bot`.
BOT_SHAPED_TOKEN = (
    base64.b64encode(b"123456789012345678").decode().rstrip("=") + ".GaBcDe." + "x" * 38
)
CORRUPT_HINTS = ("cannot be read", "restore it from a backup")


class CancellingStore:
    """The bot's store, except that the first ``complete_exchange`` is cancelled mid-write."""

    def __init__(self, inner: Store) -> None:
        self._inner = inner
        self.cancelled = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def complete_exchange(self, *args: Any, **kwargs: Any) -> Any:
        if self.cancelled:
            return await self._inner.complete_exchange(*args, **kwargs)
        self.cancelled += 1
        write = asyncio.ensure_future(self._inner.complete_exchange(*args, **kwargs))
        for _ in range(3):
            await asyncio.sleep(0)  # let the write start: BEGIN IMMEDIATE, the inserts
        write.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await write
        raise asyncio.CancelledError


async def cancelled_write(rig: Rig, result: CaseResult) -> None:
    async with rig.harness.run() as bot:
        proxy = CancellingStore(bot.services.store)
        bot.services.store = proxy
        await answered(rig, result, "cancel my bookkeeping", "cancel my bookkeeping")
        await poll_until(lambda: proxy.cancelled == 1, USER_DEADLINE_S)
        started = time.monotonic()
        await still_healthy(rig, result)
        result.check("the next write went through within 5 s", time.monotonic() - started < 5)


@contextlib.contextmanager
def small_disk(where: Path) -> Iterator[Path | None]:
    """A tmpfs of a few MiB mounted at ``where`` (root only); None where it cannot be mounted."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield None
        return
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "filler.bin"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while os.write(descriptor, b"\0" * size):
                    pass
    finally:
        os.close(descriptor)
    return filler


async def disk_full(rig: Rig, result: CaseResult) -> None:
    with small_disk(rig.workdir / "disk") as disk:
        if disk is None:
            result.failure = "skipped: mounting a tmpfs needs root (run the suite as root)"
            return
        async with rig.harness.run(data_dir=str(disk / "data")) as bot:
            await answered(rig, result, "before the disk fills", "before the disk fills")
            await settle(bot, 1)
            filler = fill(disk)
            await answered(rig, result, "while the disk is full", ("while the disk is full", "⚠️"))
            filler.unlink()
            await still_healthy(rig, result)


async def corrupt_file_at_start(rig: Rig, result: CaseResult) -> None:
    """`python -m bot` on a damaged database refuses to start and says what to do."""
    data = rig.workdir / "damaged"
    data.mkdir()
    (data / "toolcord.db").write_bytes(b"this is not a database " * 400)
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=rig.workdir,
        env=_bot_env(rig, data),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), USER_DEADLINE_S)
    except TimeoutError:
        process.kill()
        await process.wait()
        result.check("refused to start within 30 s", False)
        return
    result.saw(time.monotonic() - started)
    text = stderr.decode(errors="replace")
    result.check("exit code 4 (the store cannot open)", process.returncode == 4)
    result.check("says the file is damaged and what to do", all(h in text for h in CORRUPT_HINTS))
    result.check("no traceback", "Traceback" not in text)


def _bot_env(rig: Rig, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOOLCORD_", "OPENAI_"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "DISCORD_TOKEN": BOT_SHAPED_TOKEN,
            "OPENAI_API_KEY": "sk-test-emulator-key-0000000000",
            "OPENAI_BASE_URL": rig.openai.base_url,
            "TOOLCORD_DATA_DIR": str(data),
            "TOOLCORD_DISCORD__API_BASE_URL": rig.discord.api_base_url,
            "TOOLCORD_DISCORD__GATEWAY_URL": str(rig.discord.gateway_url),
            "TOOLCORD_DISCORD__CDN_BASE_URL": rig.discord.cdn_base_url,
            "TOOLCORD_DISCORD__GUILD_READY_TIMEOUT": "0.05",
        }
    )
    return env


CASES = [
    FaultCase("store_cancelled_write", "S2", cancelled_write),
    FaultCase("store_disk_full", "S4", disk_full),
    FaultCase(
        "store_corrupt_file_at_start",
        "S4",
        corrupt_file_at_start,
        discord_options={"token": BOT_SHAPED_TOKEN},
    ),
]
