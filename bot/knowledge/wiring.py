"""How the composition root adds the knowledge features (called from ``bot/wiring.py``)."""

from __future__ import annotations

from typing import Any

import openai

from bot.knowledge.auto_offer import AutoOffer
from bot.knowledge.context import MemoryContext
from bot.knowledge.export import EXPORT_EXTRAS, KnowledgeExport
from bot.knowledge.service import KNOWLEDGE_SERVICE_KEY, CallGate, KnowledgeService
from bot.knowledge.summaries import RollingSummaries
from bot.knowledge.tools_adapter import KnowledgeTools
from bot.settings import Settings
from bot.store.knowledge import knowledge_store
from bot.store.protocol import Store
from bot.store.tokens import TokenCounter
from tools.knowledge import KNOWLEDGE_SERVICE


def add_knowledge(
    settings: Settings,
    store: Store,
    client: openai.AsyncOpenAI,
    gate: CallGate | None,
    tool_services: dict[str, Any],
    counter: TokenCounter,
) -> list[Any]:
    """Put the knowledge service and the tools' service into ``tool_services``.

    With ``knowledge.enabled = false`` the commands and tools refuse (the service says so) and
    turns get no memories or summaries; what is stored stays exportable and deletable.

    Returns:
        The context sources for the conversation service (rolling summary, the user's memories).
    """
    knowledge = knowledge_store(store)
    tool_services[EXPORT_EXTRAS] = KnowledgeExport(knowledge)
    service = KnowledgeService(knowledge, client, settings.knowledge, gate)
    tool_services[KNOWLEDGE_SERVICE_KEY] = service
    tool_services[KNOWLEDGE_SERVICE] = KnowledgeTools(service)
    if not settings.knowledge.enabled:
        return []
    sources: list[Any] = [MemoryContext(knowledge), AutoOffer(store, service)]
    if settings.knowledge.summaries:
        summaries = RollingSummaries(
            knowledge,
            client,
            settings.knowledge,
            settings.openai.context_tokens,
            gate,
            counter,
        )
        sources.insert(0, summaries)
    return sources
