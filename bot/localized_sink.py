"""The bot's own words in an answer (failures, refusals, notices) in the turn's language.

The engine and the policies write English and name each message by its catalogue key
(``Failed.message_key``, ``Final.notice_key``); this sink, between the conversation service and
the front end's sink, swaps in the catalogue's text for the turn's locale (English when the
catalogue lacks the key).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from bot.engine import EngineEvent, Failed, Final

if TYPE_CHECKING:
    from bot.conversation import ReplySink
    from bot.i18n import Catalogue


class LocalizedSink:
    """Wraps a ReplySink; translates ``Failed.user_message`` and ``Final.notice``."""

    def __init__(self, inner: ReplySink, catalogue: Catalogue, locale: str | None) -> None:
        self._inner = inner
        self._catalogue = catalogue
        self._locale = locale
        use_texts = getattr(inner, "use_texts", None)
        if callable(use_texts):  # a reply that writes words of its own (bot.reply_core)
            use_texts(lambda key, **values: catalogue.text(key, locale, **values))

    @property
    def sent_ids(self) -> list[int]:
        return list(getattr(self._inner, "sent_ids", []))

    async def on_event(self, event: EngineEvent) -> None:
        await self._inner.on_event(event)

    async def finish(self, final: Final) -> list[int]:
        if final.notice_key is not None:
            english = self.text(final.notice_key, final.notice_values, final.notice, "en")
            notice = self.text(final.notice_key, final.notice_values, final.notice)
            if final.notice == f"({english})":  # a stop reason shown as a notice
                notice = f"({notice})"
            final = dataclasses.replace(final, notice=notice)
        return await self._inner.finish(final)

    async def fail(self, failed: Failed) -> list[int]:
        if failed.message_key is not None:
            message = self.text(failed.message_key, failed.message_values, failed.user_message)
            failed = dataclasses.replace(failed, user_message=message)
        return await self._inner.fail(failed)

    def text(
        self, key: str, values: dict[str, Any], english: str, locale: str | None = None
    ) -> str:
        """``key`` in the turn's language (or ``locale``); ``english`` when no catalogue has it."""
        if not self._catalogue.has(key, "en"):
            return english
        return self._catalogue.text(key, locale or self._locale, **values)
