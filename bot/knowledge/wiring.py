"""How the composition root adds the knowledge features (called from ``bot/wiring.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import openai

from bot.conversation import ContextSource
from bot.knowledge.auto_offer import AutoOffer
from bot.knowledge.context import MemoryContext
from bot.knowledge.export import KnowledgeExport
from bot.knowledge.service import CallGate, KnowledgeService
from bot.knowledge.summaries import RollingSummaries
from bot.knowledge.tools_adapter import KnowledgeTools
from bot.settings import Settings
from bot.store.knowledge import knowledge_store
from bot.store.protocol import Store
from bot.store.tokens import TokenCounter


@dataclass(frozen=True)
class Knowledge:
    """The knowledge features' parts, for the bot's services.

    Attributes:
        service: The knowledge service (``/knowledge``, ``/memory``).
        tools: What the knowledge tools get (``ToolDeps.knowledge``).
        export: Adds a user's knowledge to their ``/export`` document.
        context_sources: For the conversation service (rolling summary, the user's memories).
    """

    service: KnowledgeService
    tools: KnowledgeTools
    export: KnowledgeExport
    context_sources: list[ContextSource] = field(default_factory=list)


def add_knowledge(
    settings: Settings,
    store: Store,
    client: openai.AsyncOpenAI,
    gate: CallGate | None,
    counter: TokenCounter,
) -> Knowledge:
    """Build the knowledge service, the tools' side of it and the context sources.

    With ``knowledge.enabled = false`` the commands and tools refuse (the service says so) and
    turns get no memories or summaries; what is stored stays exportable and deletable.
    """
    knowledge = knowledge_store(store)
    service = KnowledgeService(knowledge, client, settings.knowledge, gate)
    parts = Knowledge(service, KnowledgeTools(service), KnowledgeExport(knowledge))
    if not settings.knowledge.enabled:
        return parts
    sources: list[ContextSource] = [MemoryContext(knowledge), AutoOffer(store, service)]
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
    parts.context_sources.extend(sources)
    return parts
