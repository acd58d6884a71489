"""One bot process of a scaled-out test: ``python -m tests.e2e.scale_worker``.

Like ``bot.testing.bot_process`` (settings JSON in ``TOOLCORD_TEST_SETTINGS``, prints
``toolcord-ready``), plus the quota policy in the conversation service when the bot does not
wire one itself yet, so a global budget can be tested across processes.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from bot.testing.bot_process import READY_LINE, SETTINGS_ENV


async def _serve(values: dict[str, Any]) -> None:
    from bot.app import ToolcordBot
    from bot.conversation import Services
    from bot.discord_endpoints import point_discord_at
    from bot.logging_setup import configure_logging
    from bot.policy.quotas import QuotaPolicy
    from bot.settings import settings_from

    class QuotaWiredBot(ToolcordBot):
        async def _start_services(self) -> Services:
            services = await super()._start_services()
            if not any(isinstance(policy, QuotaPolicy) for policy in services.policies):
                services.policies.append(QuotaPolicy(services.store, self.settings.quotas))
            return services

    settings = settings_from(values)
    token = settings.discord_token.get_secret_value() if settings.discord_token else ""
    configure_logging(settings.log_level, secrets=(token,))
    point_discord_at(settings.discord)
    bot = QuotaWiredBot(settings)

    async def announce() -> None:
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
