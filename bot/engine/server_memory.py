"""What one bot learned about its model server, kept for the bot's life (not the process's)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.engine.chat_compat import RefusedParams

log = logging.getLogger("toolcord.engine")


@dataclass
class ServerMemory:
    """The parameters the server refused, and the owner warnings already given.

    One per bot (its ``ConversationService`` holds it and passes it in every ``TurnRequest``), so
    two bots in one process, or two test runs, do not share what they learned.
    """

    refused: RefusedParams = field(default_factory=RefusedParams)
    warned: set[str] = field(default_factory=set)

    def warn_once(self, reason: str) -> None:
        """Log ``reason`` as a warning the first time this bot meets it."""
        if reason in self.warned:
            return
        self.warned.add(reason)
        log.warning("%s", reason)
