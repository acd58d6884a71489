"""A scripted summarizer for the chat route: deterministic "summaries" of summary requests.

``emu.chat.set_default(ScriptedSummarizer("gpt-5.4-nano", keep=("FACT",)))`` answers every
request for the summary model with the lines of its last user message that contain one of the
``keep`` markers (the previous summary's lines come back too, since they are in the input), one
per line, deduplicated; every other chat request gets ``other(request)`` (default: "ok").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .replies import TextReply

Request = dict[str, Any]


class ScriptedSummarizer:
    """A chat responder that summarizes by keeping marked lines."""

    def __init__(
        self,
        model: str,
        keep: Sequence[str],
        other: Callable[[Request], TextReply] | None = None,
    ) -> None:
        self.model = model
        self.keep = tuple(keep)
        self.other = other or (lambda request: TextReply("ok"))
        self.summaries: list[str] = []

    def __call__(self, request: Request) -> TextReply:
        """The reply for one chat request."""
        if request.get("model") != self.model:
            return self.other(request)
        users = [m for m in request.get("messages", []) if m.get("role") == "user"]
        text = str(users[-1].get("content", "")) if users else ""
        kept: dict[str, None] = {}
        for line in text.splitlines():
            if any(marker in line for marker in self.keep):
                kept.setdefault(line.strip(), None)
        summary = "\n".join(kept) or "Nothing of note."
        self.summaries.append(summary)
        return TextReply(summary)
