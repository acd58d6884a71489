"""What the tool definitions add to every model request (issue 17), in tokens.

Counted with the bot's own token counter on the ``tools`` entries the bot sends: the default tool
set (every built-in module, as an owner sees it with all tools enabled) and the set the tool-round
phase runs with. Every model request of a turn carries its set again, so a turn of N requests
costs N times the figure; the usage ledger records that sum per turn (``tool_schema_tokens``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.settings import BUILTIN_TOOL_MODULES, OpenAISettings
from bot.store import TokenCounter
from tools.registry import ToolRegistry

from .tools_round import TOOL_MODULES


def tool_set(modules: Sequence[str]) -> list[dict[str, Any]]:
    """The ``tools`` entries of every tool in ``modules``."""
    registry = ToolRegistry()
    for module in modules:
        registry.load_module(module)
    return registry.openai_tools()


def measure() -> dict[str, Any]:
    """Tokens and bytes of the default tool set and of the tool phase's set, per request."""
    model = OpenAISettings().chat_model
    counter = TokenCounter(model)
    default, bench = tool_set(BUILTIN_TOOL_MODULES), tool_set(TOOL_MODULES)
    return {
        "tool_schema_tokens_per_request": counter.count_tools(default, model),
        "tool_schema_tools": len(default),
        "tool_schema_bytes": len(json.dumps(default, separators=(",", ":")).encode()),
        "tool_phase_schema_tokens_per_request": counter.count_tools(bench, model),
        "tool_schema_model": model,
    }


def line(results: dict[str, Any]) -> str | None:
    """One line for the printed report, or None when the figure was not measured."""
    tokens = results.get("tool_schema_tokens_per_request")
    if not isinstance(tokens, int):
        return None
    text = (
        f"tool definitions per request: {tokens:,} tokens for the default set of "
        f"{results['tool_schema_tools']} tools ({results['tool_schema_bytes']:,} bytes), "
        f"{results['tool_phase_schema_tokens_per_request']:,} for the tool phase's set"
    )
    per_turn, prompt = (
        results.get("tool_turn_schema_tokens"),
        results.get("tool_turn_prompt_tokens"),
    )
    if per_turn and prompt:
        text += f"; its turns recorded {per_turn:,g} of {prompt:,g} prompt tokens per turn"
    return text
