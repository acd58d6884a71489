"""The soak run's bot process: the real bot, plus a probe printing its own loop figures.

Started by ``soak.py`` like ``BotProcess`` starts ``bot.testing.bot_process`` (settings as JSON in
``TOOLCORD_TEST_SETTINGS``). Every ``REPORT_S`` it prints one line
``toolcord-soak tasks=<n> lag_max_ms=<x> lag_p99_ms=<y>``: the asyncio task count and the event
loop's lag, measured by a 50 ms ticker (how late each tick woke up).
"""

from __future__ import annotations

import asyncio
import json
import os

from bot.testing.bot_process import READY_LINE, SETTINGS_ENV

REPORT_PREFIX = "toolcord-soak"
TICK_S = 0.05
REPORT_S = 1.0


async def _probe() -> None:
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    reported = loop.time()
    while True:
        before = loop.time()
        await asyncio.sleep(TICK_S)
        lags.append(max(0.0, loop.time() - before - TICK_S))
        if loop.time() - reported >= REPORT_S:
            ordered = sorted(lags)
            p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
            tasks = len(asyncio.all_tasks())
            print(
                f"{REPORT_PREFIX} tasks={tasks} lag_max_ms={ordered[-1] * 1000:.1f} "
                f"lag_p99_ms={p99 * 1000:.1f}",
                flush=True,
            )
            lags.clear()
            reported = loop.time()


async def _serve(values: dict[str, object]) -> None:
    from bot.discord_endpoints import point_discord_at
    from bot.logging_setup import configure_logging
    from bot.settings import settings_from
    from bot.wiring import open_bot

    settings = settings_from(values)
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    configure_logging(settings.log_level, secrets=(token,))
    point_discord_at(settings.discord)
    bot = await open_bot(settings)
    probe: list[asyncio.Task[None]] = []

    async def announce() -> None:
        if not probe:
            probe.append(asyncio.create_task(_probe(), name="toolcord-soak-probe"))
        print(READY_LINE, flush=True)

    bot.add_listener(announce, "on_ready")
    async with bot:
        await bot.start(token)


def main() -> None:
    from bot.testing.netguard import NetGuard

    NetGuard().install()
    asyncio.run(_serve(json.loads(os.environ[SETTINGS_ENV])))


if __name__ == "__main__":
    main()
