"""The images a conversation keeps: what ``edit_image`` can take besides the current attachments.

The bot provides an :class:`ImageLibrary` as ``ctx.deps.conversation_images``. Images are
listed oldest first and numbered from 1 (the model is told the same numbers, ids and captions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

MIN_ID_PREFIX = 8


@dataclass(frozen=True, slots=True)
class ConversationImage:
    """One image of the conversation, without its bytes."""

    position: int
    image_id: str
    caption: str


@runtime_checkable
class ImageLibrary(Protocol):
    """The conversation's images, for tools."""

    async def images(self) -> list[ConversationImage]:
        """Every image of the conversation, oldest first, numbered from 1."""

    async def load(self, image_id: str) -> bytes | None:
        """The image's best bytes (a tool's full-size original where kept), or None if gone."""


class UnknownImage(LookupError):
    """A reference that names no image of the conversation; ``str()`` says which."""


def pick(images: Sequence[ConversationImage], reference: str) -> ConversationImage:
    """The image ``reference`` names: ``last``, ``#N`` / ``N`` (position) or an id (8+ chars).

    Raises:
        UnknownImage: Nothing matches (or an id prefix matches several images).
    """
    text = reference.strip().lower().removeprefix("image").strip()
    if not images:
        raise UnknownImage("this conversation has no images yet")
    if text in ("last", "latest", "newest", "-1"):
        return images[-1]
    number = text.removeprefix("#")
    if number.isdigit() and len(number) < MIN_ID_PREFIX:
        position = int(number)
        found = [image for image in images if image.position == position]
        if not found:
            raise UnknownImage(f"there is no image #{position} (there are {len(images)})")
        return found[0]
    matches = [i for i in images if len(text) >= MIN_ID_PREFIX and i.image_id.startswith(text)]
    if len(matches) != 1:
        raise UnknownImage(f"no single image has the id {reference!r}")
    return matches[0]
