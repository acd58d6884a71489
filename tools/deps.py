"""What a tool may depend on: typed dependencies the bot provides on ``ToolContext.deps``.

The built-in tool families' dependencies are fields of :class:`ToolDeps`, each typed with a
small Protocol that the bot implements (``bot/`` never needs to be imported by a tool). A tool
written by a bot owner declares its own typed key and reads it with :meth:`ToolDeps.need`::

    NOTES: Dep[NoteBook] = Dep("notes")

    @tool
    async def add_note(ctx: ToolContext, text: str) -> str:
        await ctx.deps.need(NOTES).add(ctx.user_id, text)
        ...

and the composition root provides it (``ToolDeps().with_extra(NOTES, NoteBook(...))``). A field
or key the bot did not provide is None (``get``) or a :class:`MissingDependency` naming it
(``need``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from tools.errors import ToolFailed

if TYPE_CHECKING:
    import openai

    from tools.approval import Approver
    from tools.context import Artifact
    from tools.images.library import ImageLibrary
    from tools.knowledge import KnowledgeToolService
    from tools.moderation.actions import ModerationActionService
    from tools.net import SafeFetcher
    from tools.search.providers.base import SearchProvider

T = TypeVar("T")


class QuotaRefusal(Protocol):
    """Why a quota refused: ``message`` is shown to the user."""

    @property
    def message(self) -> str:
        """The refusal as the user should read it."""
        ...


class ImageQuota(Protocol):
    """Image budgets: charged before an image request, refunded when it surely made nothing."""

    async def charge_images(
        self, user_id: int, guild_id: int | None, n: int, *, is_owner: bool = False
    ) -> QuotaRefusal | None:
        """Count ``n`` images now, or refuse (nothing is counted then)."""
        ...

    async def refund_images(self, user_id: int, guild_id: int | None, n: int) -> None:
        """Give back images charged for a request that failed."""
        ...


class Dep(Generic[T]):
    """A typed key for a dependency a bot owner's tool needs (like aiohttp's ``AppKey``).

    Args:
        name: Named in the error when the bot did not provide it.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Dep({self.name!r})"


class MissingDependency(ToolFailed):
    """A tool needs a dependency the bot did not provide; the message names it."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(
            f"This tool is not set up: it needs the {name!r} dependency, which the bot did not "
            "provide (the bot owner must add it to the tools' dependencies in the composition "
            "root). Tell the user the tool is unavailable."
        )


def _no_extras() -> Mapping[Dep[Any], Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ToolDeps:
    """The typed dependencies of one turn's tools; None (or empty) where the bot gives none.

    Attributes:
        openai: The OpenAI client for tools (images, moderation).
        quotas: Image budgets (``generate_image`` / ``edit_image``); None: no limits.
        approver: Asks a human before a tool that acts runs (the dispatcher uses it).
        input_files: The files attached to the user's message.
        conversation_images: The images the conversation keeps (``edit_image``).
        moderation_actions: Carries out moderation actions (timeouts, deletions).
        search_provider: Replaces the configured web search provider.
        safe_fetcher: Fetches pages with the bot's own policy (``fetch_page``).
        page_text_slots: Bounds how many pages have their text extracted at once, bot-wide.
        knowledge: The server's knowledge base and the user's memories.
        extra: Dependencies of the bot owner's own tools, by their :class:`Dep` key.
    """

    openai: openai.AsyncOpenAI | None = None
    quotas: ImageQuota | None = None
    approver: Approver | None = None
    input_files: Sequence[Artifact] = ()
    conversation_images: ImageLibrary | None = None
    moderation_actions: ModerationActionService | None = None
    search_provider: SearchProvider | None = None
    safe_fetcher: SafeFetcher | None = None
    page_text_slots: asyncio.Semaphore | None = None
    knowledge: KnowledgeToolService | None = None
    extra: Mapping[Dep[Any], Any] = field(default_factory=_no_extras)

    def with_extra(self, key: Dep[T], value: T) -> ToolDeps:
        """A copy that also provides ``value`` under ``key``."""
        return replace(self, extra=MappingProxyType({**self.extra, key: value}))

    def get(self, key: Dep[T]) -> T | None:
        """The owner's dependency under ``key``, or None when the bot did not provide it."""
        found: T | None = self.extra.get(key)
        return found

    def need(self, key: Dep[T]) -> T:
        """The owner's dependency under ``key``.

        Raises:
            MissingDependency: Naming ``key``, when the bot did not provide it.
        """
        if key not in self.extra:
            raise MissingDependency(key.name)
        found: T = self.extra[key]
        return found
