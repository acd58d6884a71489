"""Split a Google-style docstring into the tool description and per-parameter descriptions."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

_ARGS_HEADERS = frozenset({"args:", "arguments:", "parameters:", "params:"})
_DROPPED_HEADERS = frozenset({"returns:", "return:", "raises:", "yields:", "yield:"})
_PARAM_LINE = re.compile(r"^(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


@dataclass(frozen=True)
class ParsedDocstring:
    """A docstring split for the model.

    Attributes:
        description: The text without the Args/Returns/Raises/Yields sections.
        params: Parameter name -> description from the Args section.
    """

    description: str
    params: dict[str, str] = field(default_factory=dict)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_section_header(line: str) -> bool:
    stripped = line.strip().lower()
    return stripped in _ARGS_HEADERS or stripped in _DROPPED_HEADERS


def _parse_args(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    current: str | None = None
    base_indent: int | None = None
    for line in lines:
        if not line.strip():
            continue
        indent = _indent(line)
        if base_indent is None:
            base_indent = indent
        match = _PARAM_LINE.match(line.strip())
        if indent <= base_indent and match:
            current = match.group(1).lstrip("*")
            params[current] = match.group(2).strip()
        elif current is not None:
            params[current] = f"{params[current]} {line.strip()}".strip()
    return params


def parse_docstring(doc: str | None) -> ParsedDocstring:
    """Parse a Google-style docstring; text outside known sections stays in the description."""
    if not doc:
        return ParsedDocstring("")
    lines = inspect.cleandoc(doc).splitlines()
    kept: list[str] = []
    params: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        if _indent(line) == 0 and _is_section_header(line):
            section: list[str] = []
            index += 1
            while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > 0):
                section.append(lines[index])
                index += 1
            if line.strip().lower() in _ARGS_HEADERS:
                params.update(_parse_args(section))
            continue
        kept.append(line)
        index += 1
    return ParsedDocstring("\n".join(kept).strip(), params)
