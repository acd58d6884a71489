"""The completion engine: knows OpenAI's two APIs (Responses and Chat Completions, see
``dialects.py``) and toolcord's tools, and nothing of Discord."""

from bot.engine.events import (
    EngineEvent,
    Failed,
    Final,
    ReasoningDelta,
    RoundReset,
    StopReason,
    TextComplete,
    TextDelta,
    ToolDone,
    ToolProgress,
    Usage,
)
from bot.engine.loop import LoopLimits, TurnRequest, run_turn

__all__ = [
    "EngineEvent",
    "Failed",
    "Final",
    "LoopLimits",
    "ReasoningDelta",
    "RoundReset",
    "StopReason",
    "TextComplete",
    "TextDelta",
    "ToolDone",
    "ToolProgress",
    "TurnRequest",
    "Usage",
    "run_turn",
]
