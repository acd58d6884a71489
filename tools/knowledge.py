"""The ``knowledge`` tool family: ``search_knowledge`` and ``remember``.

Load it with ``tools.modules = [..., "tools.knowledge"]``. Both tools use ``ctx.deps.knowledge``,
which the bot provides (``bot.knowledge.tools_adapter.KnowledgeTools`` in toolcord). Who asks
and where come from the tool context, never from the model's arguments: a search covers only the
knowledge base of the server the conversation is in, and a memory belongs to the user whose turn
this is, in this server (or in direct messages).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Protocol, runtime_checkable

from pydantic import Field

from tools.context import ToolContext
from tools.definition import tool
from tools.deps import MissingDependency
from tools.errors import ToolFailed

DM_SCOPE = 0


@runtime_checkable
class Found(Protocol):
    """One search result as the service returns it (read-only)."""

    @property
    def source(self) -> str: ...

    @property
    def section(self) -> str: ...

    @property
    def link(self) -> str | None: ...

    @property
    def text(self) -> str: ...


@runtime_checkable
class KnowledgeToolService(Protocol):
    """What the tools need from the bot (it raises ``ToolFailed`` with a message to show)."""

    async def search(
        self, user_id: int, guild_id: int, is_owner: bool, query: str
    ) -> Sequence[Found]: ...

    async def remember(self, user_id: int, scope: int, text: str) -> str: ...


def _service(ctx: ToolContext) -> KnowledgeToolService:
    found = ctx.deps.knowledge
    if found is None:
        raise MissingDependency("knowledge")
    if not isinstance(found, KnowledgeToolService):
        raise ToolFailed("The knowledge service is not available in this bot.")
    return found


@tool(family="knowledge", guild_only=True, timeout=30.0, progress="Searching the server's notes...")
async def search_knowledge(
    ctx: ToolContext, query: Annotated[str, Field(min_length=1, max_length=500)]
) -> str:
    """Search this server's knowledge base (FAQ, rules, docs its admins added).

    Use it for questions about this server, its rules, products or documents. Answer from the
    results and cite each result you use by its source (and link when there is one). If nothing
    fits, say the knowledge base does not cover it.

    Args:
        query: The question or the exact terms (names, codes) to look for.
    """
    assert ctx.guild_id is not None  # guild_only
    hits = await _service(ctx).search(ctx.user_id, ctx.guild_id, ctx.is_owner, query)
    if not hits:
        return json.dumps({"results": [], "note": "Nothing in this server's knowledge base."})
    results = [
        {"source": hit.source, "section": hit.section, "link": hit.link, "text": hit.text}
        for hit in hits
    ]
    return json.dumps({"results": results}, ensure_ascii=False)


@tool(family="knowledge", side_effects=True, timeout=15.0)
async def remember(
    ctx: ToolContext, fact: Annotated[str, Field(min_length=1, max_length=500)]
) -> str:
    """Remember something about the user, only when they ask you to remember it.

    The user sees what is kept with /memory and deletes it with /memory forget. Keep it short
    and in their words; never store what someone else said about them.

    Args:
        fact: What to remember, e.g. "prefers answers in French".
    """
    scope = ctx.guild_id if ctx.guild_id is not None else DM_SCOPE
    return await _service(ctx).remember(ctx.user_id, scope, fact)
