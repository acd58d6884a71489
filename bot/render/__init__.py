"""Discord text rendering: sanitise, hide reasoning, defang links, split into messages.

The pipeline: ``sanitize_output`` (controls, surrogates, ``@everyone``) -> ``strip_reasoning`` ->
``defang_links`` -> ``neutralize_mass_mentions`` again (hiding a block can rebuild one) ->
``split_chunks`` -> ``guard_links`` on every message (a cut must not expose a link).

Pure functions, no Discord import, no I/O. Delivery calls ``render_reply`` (or ``render`` to also
get the hidden reasoning, to attach as a file) for the final text, and ``render_partial`` for each
streaming edit; the chunks ``render_partial`` returns before its last one never change as the text
grows and equal the chunks ``render_reply`` returns for the final text.

Delivery must still send with ``allowed_mentions=AllowedMentions.none()``; sending with
``suppress_embeds=True`` as well is a cheap extra guard against previews.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from bot.render.links import defang_links, guard_links, is_allowed_url, normalize_hosts
from bot.render.reasoning import strip_reasoning
from bot.render.sanitize import (
    clean_user_text,
    fix_surrogates,
    neutralize_mass_mentions,
    sanitize_output,
)
from bot.render.split import DISCORD_LIMIT, MIN_LIMIT, Chunk, split_chunks, split_message
from bot.render.stream import hold_back_tail, settled_prefix

__all__ = [
    "DISCORD_LIMIT",
    "MIN_LIMIT",
    "Chunk",
    "RenderedReply",
    "clean_user_text",
    "defang_links",
    "fix_surrogates",
    "guard_links",
    "is_allowed_url",
    "neutralize_mass_mentions",
    "normalize_hosts",
    "render",
    "render_partial",
    "render_reply",
    "sanitize_output",
    "split_chunks",
    "split_message",
    "strip_reasoning",
]


@dataclass(frozen=True)
class RenderedReply:
    """The messages to send and the reasoning that was hidden from them."""

    chunks: list[str]
    reasoning: str


def render(
    text: str,
    *,
    allow_hosts: Collection[str] = (),
    limit: int = DISCORD_LIMIT,
    reasoning_open: bool = False,
) -> RenderedReply:
    """Render a final model answer: sanitise, hide reasoning, defang links, split.

    Args:
        text: The model's whole answer.
        allow_hosts: Hosts whose links stay clickable (subdomains included); empty by default.
        limit: Maximum code points per message.
        reasoning_open: The answer starts inside a reasoning block (see ``strip_reasoning``).

    Returns:
        The messages (empty when nothing visible is left) and the hidden reasoning.
    """
    display, reasoning = _display_text(text, allow_hosts, reasoning_open)
    chunks = split_chunks(display, limit)
    return RenderedReply([guard_links(chunk.text, allow_hosts) for chunk in chunks], reasoning)


def render_reply(
    text: str,
    *,
    allow_hosts: Collection[str] = (),
    limit: int = DISCORD_LIMIT,
    reasoning_open: bool = False,
) -> list[str]:
    """The messages for a final model answer (``render(...).chunks``)."""
    return render(text, allow_hosts=allow_hosts, limit=limit, reasoning_open=reasoning_open).chunks


def render_partial(
    text: str,
    limit: int = DISCORD_LIMIT,
    *,
    allow_hosts: Collection[str] = (),
    reasoning_open: bool = False,
) -> list[str]:
    """The messages to show for an answer that is still streaming in.

    Half-written words, fence lines, Markdown links and inline code at the end are held back
    (``stream.hold_back_tail``), an open reasoning block hides the rest, an open code fence is
    closed in the last message, and chunks whose cut could still move are not shown yet. Every
    chunk but the last is final. May return an empty list (nothing visible yet).
    """
    display, _ = _display_text(hold_back_tail(text), allow_hosts, reasoning_open)
    chunks = settled_prefix(split_chunks(display, limit), display)
    return [guard_links(chunk.text, allow_hosts) for chunk in chunks]


def _display_text(text: str, allow_hosts: Collection[str], reasoning_open: bool) -> tuple[str, str]:
    visible, reasoning = strip_reasoning(sanitize_output(text), open_at_start=reasoning_open)
    display = neutralize_mass_mentions(defang_links(visible, allow_hosts))
    return display, reasoning
