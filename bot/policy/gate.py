"""The hook the conversation service calls around every answer.

A policy may refuse a turn before any model call (a quota spent, an input the guild's moderation
blocks), see the answer before it is delivered (output moderation), and learn what the answer cost.
Policies run in order; the first refusal wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from bot.conversation import IncomingTurn
    from bot.engine import AnswerUsage


@dataclass(frozen=True)
class Refusal:
    """Why a turn or an answer is refused; ``message`` is shown to the user as is.

    ``key`` names the message in the bot's catalogues (``bot/i18n``) and ``values`` fill its
    placeholders, so the Discord side can show it in the user's language; ``message`` is the
    English text.
    """

    kind: str
    message: str
    key: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


class TurnPolicy(Protocol):
    """What the conversation service asks of a policy.

    A policy subclasses it explicitly to inherit the defaults of its optional abilities
    (``holds_output``).
    """

    async def before_turn(self, turn: IncomingTurn) -> Refusal | None:
        """Refuse the turn before any model call, or None to go on."""

    async def review_answer(self, turn: IncomingTurn, text: str) -> Refusal | None:
        """Refuse the final answer text before it is delivered, or None to deliver it."""

    async def after_turn(self, turn: IncomingTurn, usage: AnswerUsage, model: str) -> None:
        """Account for what the answer cost (also called after a failed answer)."""

    async def holds_output(self, turn: IncomingTurn) -> bool:
        """Whether the answer text must not show before it passed review (default: False)."""
        return False


class CallMeter(Protocol):
    """Quotas for a model call made outside a chat turn (a transcription): gate, then count."""

    async def admit_call(
        self, user_id: int, guild_id: int | None, tokens: int, *, is_owner: bool = False
    ) -> Refusal | None:
        """Refuse the call when a budget that applies is spent, or None to make it."""

    async def record_call(
        self, user_id: int, guild_id: int | None, model: str, tokens: int
    ) -> None:
        """Count what the call cost in the usage ledger and the budgets."""


@runtime_checkable
class RoundPolicy(Protocol):
    """A policy that also admits every model round of a turn after the first (the quotas)."""

    async def before_round(self, turn: IncomingTurn, used: int) -> Refusal | None:
        """Stop the turn before its next round (a refusal), or None to run it; ``used`` is
        what its rounds cost so far."""
