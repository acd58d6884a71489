"""How the composition root adds the knowledge features (called from ``bot/wiring.py``)."""

from __future__ import annotations

from typing import Any

import openai

from bot.knowledge.context import MemoryContext
from bot.knowledge.service import KNOWLEDGE_SERVICE_KEY, CallGate, KnowledgeService
from bot.knowledge.tools_adapter import KnowledgeTools
from bot.settings import Settings
from bot.store.knowledge import knowledge_store
from bot.store.protocol import Store
from tools.knowledge import KNOWLEDGE_SERVICE


def add_knowledge(
    settings: Settings,
    store: Store,
    client: openai.AsyncOpenAI,
    gate: CallGate | None,
    tool_services: dict[str, Any],
) -> list[Any]:
    """Put the knowledge service and the tools' service into ``tool_services``.

    Returns:
        The context sources for the conversation service (the user's memories).
    """
    knowledge = knowledge_store(store)
    service = KnowledgeService(knowledge, client, settings.knowledge, gate)
    tool_services[KNOWLEDGE_SERVICE_KEY] = service
    tool_services[KNOWLEDGE_SERVICE] = KnowledgeTools(service)
    return [MemoryContext(knowledge)]
