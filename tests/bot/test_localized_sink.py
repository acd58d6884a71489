"""LocalizedSink: the engine's English notices and failures in the turn's language."""

from __future__ import annotations

from typing import Any

from bot.engine import AnswerUsage, EngineEvent, Failed, Final
from bot.i18n import Catalogue
from bot.localized_sink import LocalizedSink

SPENT = "quota.spent.user.day.tokens"
VALUES = {"limit": "1,000", "renews": "<t:1:f> (<t:1:R>)"}


class Inner:
    def __init__(self) -> None:
        self.got: list[Any] = []

    async def on_event(self, event: EngineEvent) -> None:
        self.got.append(event)

    async def finish(self, final: Final) -> list[int]:
        self.got.append(final)
        return [1]

    async def fail(self, failed: Failed) -> list[int]:
        self.got.append(failed)
        return [2]


def _final(notice: str, key: str | None, values: dict[str, Any]) -> Final:
    return Final("Partial.", [], AnswerUsage(), notice=notice, notice_key=key, notice_values=values)


async def test_a_stop_reason_shown_as_a_notice_keeps_its_parentheses() -> None:
    catalogue, inner = Catalogue.load(), Inner()
    english = catalogue.text(SPENT, "en", **VALUES)
    sink = LocalizedSink(inner, catalogue, "ko")
    await sink.finish(_final(f"({english})", SPENT, VALUES))
    await sink.finish(_final("(cut)", "notice.cut_short", {}))
    assert [f.notice for f in inner.got] == [
        f"({catalogue.text(SPENT, 'ko', **VALUES)})",
        "(답변이 길이 한도에 닿아 중간에 끊겼습니다.)",
    ]


async def test_english_and_unkeyed_messages_pass_through() -> None:
    catalogue, inner = Catalogue.load(), Inner()
    failed = Failed("stopped", "As the engine wrote it.", "", [], AnswerUsage())
    await LocalizedSink(inner, catalogue, "ko").fail(failed)
    keyed = Failed("timeout", "x", "", [], AnswerUsage(), message_key="failure.timeout")
    await LocalizedSink(inner, catalogue, "en-US").fail(keyed)
    assert [f.user_message for f in inner.got] == [
        "As the engine wrote it.",
        "The AI service took too long to answer. Please try again.",
    ]
