"""Turning a question into a full-text query both backends accept (no operators pass through)."""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 32


def terms(question: str) -> list[str]:
    """The distinct lower-case words of ``question`` (at most ``MAX_TERMS``), in order."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(question.lower()):
        seen.setdefault(word, None)
    return list(seen)[:MAX_TERMS]


def fts5_query(question: str, guild_id: int) -> str:
    """An FTS5 ``MATCH`` string: the guild's chunks with any of the words in title or text,
    each word quoted (``""`` when there are none)."""
    words = " OR ".join(f'"{word}"' for word in terms(question))
    return f'guild : "g{guild_id}" AND {{title text}} : ({words})' if words else ""


def tsquery(question: str) -> str:
    """A PostgreSQL ``to_tsquery('simple', ...)`` string: any of the words."""
    return " | ".join(terms(question))
