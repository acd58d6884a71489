"""Run the real bot in a child process, for crash tests (``kill -9``) and benchmarks.

The parent passes the settings as JSON in ``TOOLCORD_TEST_SETTINGS``; the child installs the network
guard, runs the production runner and prints ``toolcord-ready`` once the bot is ready.

```python
process = await BotProcess.start(harness.settings_values(), cwd=tmp_path)
await process.wait_ready()
process.kill()            # SIGKILL, no cleanup: a crash
```
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

READY_LINE = "toolcord-ready"
SETTINGS_ENV = "TOOLCORD_TEST_SETTINGS"


class BotProcess:
    """A bot running in a child Python process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.output: list[str] = []
        self._ready = asyncio.Event()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, settings: dict[str, Any], *, cwd: Path | None = None) -> BotProcess:
        """Start ``python -m bot.testing.bot_process`` with these settings values."""
        env = dict(os.environ)
        env[SETTINGS_ENV] = json.dumps(settings)
        env["PYTHONPATH"] = os.pathsep.join([str(Path.cwd()), env.get("PYTHONPATH", "")])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.testing.bot_process",
            cwd=cwd,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self._process.stdout is not None
        async for raw in self._process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.output.append(line)
            if line.endswith(READY_LINE):
                self._ready.set()

    async def wait_ready(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Wait until the bot is ready; fail with its output if it died first."""
        waiter = asyncio.create_task(self._ready.wait())
        done, _ = await asyncio.wait(
            {waiter, self._reader}, timeout=timeout, return_when="FIRST_COMPLETED"
        )
        if waiter not in done:
            waiter.cancel()
            tail = "\n".join(self.output[-30:])
            raise RuntimeError(f"the bot process was not ready within {timeout} s:\n{tail}")

    def kill(self) -> None:
        """SIGKILL: the bot gets no chance to clean up."""
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGKILL)

    async def wait(self, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        """Wait for the process to end; returns its exit code."""
        code = await asyncio.wait_for(self._process.wait(), timeout)
        await asyncio.wait_for(self._reader, timeout)
        return code

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not end."""
        if self._process.returncode is None:
            self._process.terminate()
            try:
                await self.wait(10)
            except TimeoutError:
                self.kill()
                await self.wait(10)


async def _serve(settings_values: dict[str, Any]) -> None:
    from bot.discord_endpoints import point_discord_at, quiet_voice_connection_warnings
    from bot.logging_setup import configure_logging
    from bot.settings import settings_from
    from bot.wiring import open_bot

    settings = settings_from(settings_values)
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    configure_logging(settings.log_level, secrets=(token,))
    point_discord_at(settings.discord)
    quiet_voice_connection_warnings()
    bot = await open_bot(settings)

    async def announce() -> None:
        print(READY_LINE, flush=True)

    bot.add_listener(announce, "on_ready")
    async with bot:
        await bot.start(token)


def main() -> None:
    from bot.testing.netguard import NetGuard

    NetGuard().install()
    values = json.loads(os.environ[SETTINGS_ENV])
    asyncio.run(_serve(values))


if __name__ == "__main__":
    main()
