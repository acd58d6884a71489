"""The ``"knowledge"`` tool service: what ``tools.knowledge`` calls, on the knowledge service.

Turns toolcord's errors into ``ToolFailed`` (the model reads the message and tells the user) and
search hits into the cited form the tool returns: source, section, link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.errors import LimitError, ModelError
from bot.knowledge.models import KnowledgeHit
from bot.knowledge.service import Caller, KnowledgeService
from tools.errors import ToolFailed


@dataclass(frozen=True, slots=True)
class CitedChunk:
    """A search result with what to cite."""

    source: str
    section: str
    link: str | None
    text: str


def cited(hit: KnowledgeHit) -> CitedChunk:
    """The tool's form of a hit: a link only for web pages and Discord messages."""
    link = hit.origin if hit.origin.startswith(("https://", "http://")) else None
    return CitedChunk(hit.source_title, hit.title, link, hit.text)


class KnowledgeTools:
    """Implements ``tools.knowledge.KnowledgeToolService``."""

    def __init__(self, service: KnowledgeService) -> None:
        self._service = service

    async def search(
        self, user_id: int, guild_id: int, is_owner: bool, query: str
    ) -> Sequence[CitedChunk]:
        """Search the guild's knowledge base for ``query``, charged to the user."""
        try:
            hits = await self._service.search(Caller(user_id, guild_id, is_owner), guild_id, query)
        except LimitError as error:
            raise ToolFailed(str(error)) from error
        except ModelError as error:
            raise ToolFailed(error.user_message) from error
        return [cited(hit) for hit in hits]

    async def remember(self, user_id: int, scope: int, text: str) -> str:
        """Keep ``text`` for the user; the confirmation the model relays."""
        try:
            memory = await self._service.remember(user_id, scope, text)
        except LimitError as error:
            raise ToolFailed(str(error)) from error
        return (
            f"Remembered (memory #{memory.id}): {memory.text}. The user can see it with "
            "/memory and delete it with /memory forget."
        )
