"""Child processes for the split layout: a bot or the model server in its own Python process.

Every child is started the same way (``python -m <module>``), so the bare echo bot and toolcord are
measured alike. A child prints a ready line on stdout; the parent keeps its last lines for error
messages and hands every line to an optional listener.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from .profiling import PROFILE_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0


class Child:
    """One running child process; use :meth:`start` and :meth:`stop`."""

    def __init__(self, name: str, process: asyncio.subprocess.Process, ready_marker: str) -> None:
        self.name = name
        self._process = process
        self._ready_marker = ready_marker
        self.ready_line = ""
        self.tail: collections.deque[str] = collections.deque(maxlen=2000)
        self.listener: Callable[[str], None] | None = None
        self._ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read(), name=f"bench-read-{name}")

    @classmethod
    async def start(
        cls,
        name: str,
        module: str,
        args: list[str] | None = None,
        *,
        env: dict[str, str] | None = None,
        ready_marker: str,
        profile: Path | None = None,
    ) -> Child:
        """Start ``python -m module args`` from the repository root and wait until it is ready.

        With ``profile``, the child runs under ``tests.bench.profiling`` (see :meth:`profile`).
        """
        child_env = {**os.environ, **(env or {})}
        command = ["-m", module, *(args or [])]
        if profile is not None:
            child_env[PROFILE_ENV] = str(profile)
            command = ["-m", "tests.bench.profiling", module, *(args or [])]
        child_env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            cwd=REPO_ROOT,
            env=child_env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        child = cls(name, process, ready_marker)
        await child._wait_ready()
        return child

    @property
    def pid(self) -> int:
        return self._process.pid

    def profile(self, on: bool) -> None:
        """Start (``on``) or stop and write the profile of a child started with ``profile``."""
        self._process.send_signal(signal.SIGUSR1 if on else signal.SIGUSR2)

    async def _read(self) -> None:
        assert self._process.stdout is not None
        async for raw in self._process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.tail.append(line)
            if not self._ready.is_set() and self._ready_marker in line:
                self.ready_line = line
                self._ready.set()
            if self.listener is not None:
                self.listener(line)

    async def _wait_ready(self) -> None:
        waiter = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {waiter, self._reader}, timeout=READY_TIMEOUT_S, return_when="FIRST_COMPLETED"
        )
        if waiter not in done:
            waiter.cancel()
            await self.stop()
            tail = "\n".join(self.tail)
            raise RuntimeError(f"the {self.name} process did not get ready; its output:\n{tail}")

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end in time."""
        if self._process.returncode is None:
            self._process.terminate()
            try:
                await asyncio.wait_for(self._process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                self._process.kill()
                await self._process.wait()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._reader, STOP_TIMEOUT_S)
