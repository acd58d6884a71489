"""Records of the knowledge base, user memory and rolling conversation summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DM_SCOPE = 0
"""The ``guild_id`` of memories kept in direct messages."""


@dataclass(frozen=True, slots=True)
class NewChunk:
    """A chunk about to be stored: its heading, text and embedding (float32 bytes)."""

    title: str
    text: str
    embedding: bytes


@dataclass(frozen=True, slots=True)
class KnowledgeSource:
    """One source an admin added to a guild's knowledge base."""

    id: int
    guild_id: int
    title: str
    kind: str
    origin: str
    added_by: int
    chunk_count: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KnowledgeHit:
    """One chunk found by a search, with the source to cite."""

    chunk_id: int
    source_id: int
    source_title: str
    origin: str
    title: str
    text: str
    score: float


@dataclass(frozen=True, slots=True)
class Memory:
    """One thing a user asked the bot to remember (guild ``0``: direct messages)."""

    id: int
    user_id: int
    guild_id: int
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PastTurn:
    """A user or assistant text turn of a complete exchange (what a summary is made from)."""

    id: int
    role: str
    author_name: str | None
    content: str
    token_estimate: int


@dataclass(frozen=True, slots=True)
class Summary:
    """The rolling summary of a conversation's turns up to ``through_turn_id``."""

    conversation_id: int
    text: str
    through_turn_id: int
    token_estimate: int
    told: bool
    updated_at: datetime
