"""Policies a turn passes through: quotas, moderation, permissions."""

from bot.policy.gate import Refusal, TurnPolicy

__all__ = ["Refusal", "TurnPolicy"]
