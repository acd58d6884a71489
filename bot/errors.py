"""toolcord's errors: one root, one class per party that must act.

Every message says who must act and what to do, in one plain sentence, so it can be shown as is
(to the bot owner on stderr or in the log, or to a Discord user).
"""

from __future__ import annotations


class ToolcordError(Exception):
    """Root of every error toolcord raises on purpose."""


class ConfigError(ToolcordError):
    """The bot owner must fix the configuration (config/bot.toml, the environment or .env)."""


class ModelError(ToolcordError):
    """The model provider failed; ``kind`` says how, ``user_message`` is safe to show a user."""

    def __init__(self, kind: str, user_message: str, *, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail or user_message}")
        self.kind = kind
        self.user_message = user_message
        self.detail = detail


class LimitError(ToolcordError):
    """A quota or budget refused the request; the message says when it resets."""


class StoreError(ToolcordError):
    """The conversation store cannot be used; the owner must act (disk, permissions, version)."""


class ReplyUnavailable(ToolcordError):
    """The place an answer would go cannot take it now (e.g. the bot may not write there).

    A front end's sink factory raises it before any model call; the turn is recorded as failed
    and no model tokens are spent on an answer nobody can see.
    """
