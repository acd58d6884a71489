"""The completion engine: knows OpenAI's two APIs (Responses and Chat Completions, see
``dialects.py``) and toolcord's tools, and nothing of Discord."""

from bot.engine.events import (
    AnswerUsage,
    EngineEvent,
    Failed,
    Final,
    ReasoningDelta,
    RoundReset,
    StopReason,
    TextComplete,
    TextDelta,
    ToolDone,
    ToolStatus,
)
from bot.engine.loop import LoopLimits, TurnRequest, run_turn
from bot.engine.server_memory import ServerMemory

__all__ = [
    "AnswerUsage",
    "EngineEvent",
    "Failed",
    "Final",
    "LoopLimits",
    "ReasoningDelta",
    "RoundReset",
    "ServerMemory",
    "StopReason",
    "TextComplete",
    "TextDelta",
    "ToolDone",
    "ToolStatus",
    "TurnRequest",
    "run_turn",
]
