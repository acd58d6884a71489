"""Replies only the Responses API route knows: a response that fails, and a stream ``error`` event.

The Responses route also takes every chat reply (:class:`~.replies.TextReply`,
:class:`~.replies.ToolCallsReply`, :class:`~.replies.RefusalReply`, a plain string); those are
rendered as Responses output items.
"""

from __future__ import annotations

from dataclasses import dataclass

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


ResponsesReply = ChatReply | FailedReply | StreamErrorReply
