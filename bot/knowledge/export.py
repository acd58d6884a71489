"""What ``/export`` adds for issue 18: the conversation's rolling summary and the user's memories.

Only the invoking user's memories are added (all of them, in every server and in DMs: the
export is theirs and ephemeral); the summary is the exported conversation's own.
"""

from __future__ import annotations

from typing import Any

from bot.store.knowledge import KnowledgeStore


class KnowledgeExport:
    """``await KnowledgeExport(store)(document, user_id)``: the document with the extras."""

    def __init__(self, store: KnowledgeStore) -> None:
        self._store = store

    async def __call__(self, document: dict[str, Any], user_id: int) -> dict[str, Any]:
        """``document`` plus ``summary`` (or null) and ``memories``."""
        conversation_id = int(document["conversation"]["id"])
        summary = await self._store.summary(conversation_id)
        memories = await self._store.memories(user_id, None)
        return {
            **document,
            "summary": None
            if summary is None
            else {
                "text": summary.text,
                "through_turn_id": summary.through_turn_id,
                "updated_at": summary.updated_at.isoformat(),
            },
            "memories": [
                {
                    "id": memory.id,
                    "guild_id": memory.guild_id or None,
                    "text": memory.text,
                    "created_at": memory.created_at.isoformat(),
                }
                for memory in memories
            ],
        }
