"""Replies only the Responses API route knows: a response that fails, and a stream ``error`` event.

The Responses route also takes every chat reply (:class:`~.replies.TextReply`,
:class:`~.replies.ToolCallsReply`, :class:`~.replies.RefusalReply`, a plain string); those are
rendered as Responses output items.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .replies import ChatReply, ChatReplyOptions


@dataclass(frozen=True)
class FailedReply(ChatReplyOptions):
    """The response starts, then ends with ``response.failed`` (status ``failed``, ``error`` set).

    ``partial_text`` is streamed first as an incomplete message. ``code`` is one of the spec's
    ``ResponseErrorCode`` values (``server_error``, ``rate_limit_exceeded``, ``invalid_prompt``, …).
    """

    message: str = "The server had an error while processing your request. Sorry about that!"
    code: str = "server_error"
    partial_text: str = ""


@dataclass(frozen=True)
class StreamErrorReply(ChatReplyOptions):
    """The stream carries an ``error`` event after ``response.in_progress`` and then ends."""

    message: str = "The server had an error while processing your request. Sorry about that!"
    code: str | None = "server_error"
    param: str | None = None


@dataclass(frozen=True)
class Citation:
    """A ``url_citation`` annotation: ``quote`` is the cited part of the answer (whole if "")."""

    url: str
    title: str
    quote: str = ""


@dataclass(frozen=True)
class WebSearchReply(ChatReplyOptions):
    """The model runs OpenAI's hosted ``web_search`` tool, then answers citing ``citations``.

    The request must offer ``{"type": "web_search"}`` (OpenAI runs the search; the client runs
    nothing). The stream carries a ``web_search_call`` item and the answer's ``url_citation``
    annotations (``response.output_text.annotation.added``).
    """

    text: str = ""
    query: str = ""
    citations: Sequence[Citation] = field(default_factory=tuple)


ResponsesReply = ChatReply | FailedReply | StreamErrorReply | WebSearchReply
