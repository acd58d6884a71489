"""Images in stored turns: kept once per conversation, referred to by id, resolved per request.

When a user turn is stored (or the user message after a round's tool results that shows the model
the images the tools returned), each ``image_url`` part holding a base64 ``data:`` URL becomes a row
of the ``images`` table (id: the SHA-256 of its bytes, once per conversation) and the turn keeps
a reference part instead, chat-shaped like the part it replaces::

    {"type": "image_ref", "image_id": "<64 hex digits>", "mime": "image/jpeg",
     "width": 768, "height": 512, "size": 123456}

(plus ``"detail"`` when the original part had one). The window counts a reference at its real
token cost (``image_cost``). Only when a request is built are references turned back into
``{"type": "image_url", "image_url": {"url": "data:..."}}`` parts, newest first while the
request's image byte budget lasts; older ones become a one-line text note (``NOT_RESENT``, or
``LEFT_OUT`` in the message being answered). Windows never return
``image_ref`` parts. Parts stored before this (data URLs inside the turn) are read as they are and
count against the same budget.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from bot.images import data_url, data_url_length, decode_data_url, probe
from bot.store.models import JsonDict, StoredImage

IMAGE_REF = "image_ref"
NOT_RESENT = "[image from an earlier message, not re-sent]"
LEFT_OUT = "[image left out: this request's image byte budget is spent]"
NO_LONGER_STORED = "[image no longer stored]"
DEFAULT_MAX_IMAGE_BYTES = 8_000_000
CAPTION_CHARS = 200
# OpenAI takes at most 500 images (and 50 MB of them) in one request: the newest 500 go.
MAX_IMAGES_PER_REQUEST = 500
Message = dict[str, Any]
FetchImages = Callable[[Sequence[str]], Awaitable[dict[str, StoredImage]]]


def split_images(
    parts: Iterable[JsonDict], caption: str = ""
) -> tuple[list[JsonDict], list[StoredImage]]:
    """Parts with data-URL images replaced by references, and the images (once each).

    Each image is captioned ``caption``, or else by the text part right before it (how the
    images a tool returned are introduced), cut to ``CAPTION_CHARS``.
    """
    kept: list[JsonDict] = []
    images: dict[str, StoredImage] = {}
    before = ""
    for part in parts:
        image = _inline_image(part)
        if image is None:
            kept.append(part)
            before = str(part.get("text", "")) if part.get("type") == "text" else ""
            continue
        text = caption or before.strip().strip("[]")
        images.setdefault(image.image_id, replace(image, caption=text[:CAPTION_CHARS]))
        detail = (part.get("image_url") or {}).get("detail")
        kept.append(ref_part(image, detail))
    return kept, list(images.values())


def ref_part(image: StoredImage, detail: str | None = None) -> JsonDict:
    """The ``image_ref`` part a stored turn keeps for ``image``."""
    part: JsonDict = {
        "type": IMAGE_REF,
        "image_id": image.image_id,
        "mime": image.mime,
        "width": image.width,
        "height": image.height,
        "size": image.size,
    }
    if detail:
        part["detail"] = detail
    return part


def image_id(data: bytes) -> str:
    """The id an image is stored under: the SHA-256 of its bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def request_bytes(part: JsonDict) -> int:
    """Bytes the image part adds to a request body (0 for parts that are not images)."""
    kind = part.get("type")
    if kind == IMAGE_REF:
        return data_url_length(str(part.get("mime", "")), int(part.get("size", 0)))
    if kind == "image_url":
        return len(str((part.get("image_url") or {}).get("url", "")))
    return 0


async def resolve_images(
    messages: list[Message], max_bytes: int, fetch: FetchImages
) -> list[Message]:
    """``messages`` with references made data URLs, newest first within ``max_bytes``.

    Images past the budget (and references whose image is gone) become a short text part.
    Messages without image parts are returned as they are; the others are copied.
    """
    keep = _within_budget(messages, max_bytes)
    wanted = [
        str(part["image_id"])
        for index, part_index in keep
        if (part := messages[index]["content"][part_index]).get("type") == IMAGE_REF
    ]
    found = await fetch(list(dict.fromkeys(wanted))) if wanted else {}
    resolved: list[Message] = []
    for index, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list) or not any(request_bytes(p) for p in content):
            resolved.append(message)
            continue
        note = LEFT_OUT if index == len(messages) - 1 else NOT_RESENT
        parts = [
            _resolved_part(part, (index, part_index) in keep, found, note)
            for part_index, part in enumerate(content)
        ]
        resolved.append({**message, "content": parts})
    return resolved


def _within_budget(messages: Sequence[Message], max_bytes: int) -> set[tuple[int, int]]:
    """(message, part) positions of the images that fit, taking the newest messages first."""
    keep: set[tuple[int, int]] = set()
    used = 0
    for index in range(len(messages) - 1, -1, -1):
        content = messages[index].get("content")
        if not isinstance(content, list):
            continue
        for part_index, part in enumerate(content):
            size = request_bytes(part) if isinstance(part, dict) else 0
            if size and used + size <= max_bytes and len(keep) < MAX_IMAGES_PER_REQUEST:
                keep.add((index, part_index))
                used += size
    return keep


def _resolved_part(
    part: JsonDict, keep: bool, found: dict[str, StoredImage], note: str
) -> JsonDict:
    if not request_bytes(part):
        return part
    if not keep:
        return {"type": "text", "text": note}
    if part.get("type") != IMAGE_REF:
        return part
    image = found.get(str(part.get("image_id")))
    if image is None:
        return {"type": "text", "text": NO_LONGER_STORED}
    image_url: JsonDict = {"url": data_url(image.mime, image.data)}
    if part.get("detail"):
        image_url["detail"] = part["detail"]
    return {"type": "image_url", "image_url": image_url}


def _inline_image(part: JsonDict) -> StoredImage | None:
    if not isinstance(part, dict) or part.get("type") != "image_url":
        return None
    decoded = decode_data_url(str((part.get("image_url") or {}).get("url", "")))
    if decoded is None:
        return None
    described = probe(decoded[1])
    if described is None:
        return None
    mime, width, height = described
    data = decoded[1]
    return StoredImage(image_id(data), mime, width, height, len(data), data)
