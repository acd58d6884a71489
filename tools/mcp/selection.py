"""A bounded set of MCP tools per request: every tool definition costs prompt tokens.

Built-in tools are always offered. MCP tools are offered in full while there are at most
``limit`` of them; past that, the ``limit`` whose names and descriptions share the most words
with the user's message (ties keep the registry's order).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tools.definition import Tool
from tools.mcp.adapter import McpTool

_WORD = re.compile(r"[a-z0-9]{3,}")
_COMMON = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "what",
        "this",
        "that",
        "from",
        "you",
        "your",
        "are",
        "how",
        "please",
        "can",
        "its",
        "into",
        "was",
        "were",
        "has",
        "have",
        "will",
        "would",
        "should",
        "could",
        "does",
        "not",
        "but",
        "all",
        "any",
    ]
)


def _words(text: str) -> set[str]:
    found = _WORD.findall(text.lower().replace("_", " ").replace("-", " "))
    return {word for word in found if word not in _COMMON}


def relevance(tool: McpTool, words: set[str]) -> int:
    """Shared words: twice for the tool's own name, once for its description."""
    return 2 * len(words & _words(tool.remote_name)) + len(words & _words(tool.description))


def select_tools(tools: Sequence[Tool], text: str, limit: int) -> list[Tool]:
    """``tools`` with the MCP ones cut to the ``limit`` most relevant to ``text``."""
    remote = [t for t in tools if isinstance(t, McpTool)]
    if len(remote) <= limit:
        return list(tools)
    words = _words(text)
    order = {id(t): index for index, t in enumerate(remote)}
    ranked = sorted(remote, key=lambda t: (-relevance(t, words), order[id(t)]))
    kept = {id(t) for t in ranked[:limit]}
    return [t for t in tools if not isinstance(t, McpTool) or id(t) in kept]
