"""The images a conversation keeps working on: the library tools edit from, the note the model
reads, and the message that shows the model the images its tools returned.

* :class:`StoreImageLibrary` is the ``"conversation_images"`` service of ``edit_image``
  (``tools.images.library``): the conversation's images from the store, oldest first.
* :func:`images_note` is a system message listing them by number, short id and caption (no
  bytes), so the model can name one ("#2", "last") without the user uploading it again. Images
  older than the window are only named here; the window re-sends the recent ones.
* :class:`ToolImages` turns the images of a round's tool results into one chat-shaped user message
  (``{"role": "user", "content": [text, image_url, ...]}``) that follows the tool results: each
  image downscaled like an attachment (``bot.images``) and stored at once with its caption and the
  tool's full-size original, so the next turn can edit it. The message itself is stored with the
  exchange, by reference (``bot.store.images``). Any dialect can send it: the Responses dialect
  converts its ``image_url`` parts like those of any user message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bot.errors import StoreError
from bot.images import ImageRejected, data_url, prepare
from bot.store import ImageStore
from bot.store.images import CAPTION_CHARS, image_id
from bot.store.models import StoredImage
from tools import Artifact
from tools.calls import ToolOutcome
from tools.images.library import ConversationImage

log = logging.getLogger("toolcord.conversation_images")

SHORT_ID = 12
NOTE_MAX_IMAGES = 20
NOTE_HEAD = (
    "Images in this conversation, oldest first (number, id, size, caption). Only recent ones "
    "are visible to you in the messages; the others are named here. To edit one, call "
    'edit_image with images set to "last", its number like "#2", or its id; several at once '
    "are combined. The user does not need to upload them again."
)
TOOL_IMAGES_HEAD = (
    "[The tool results above returned these images; they are attached to your reply for the "
    "user. They are shown here so you can see them.]"
)


class StoreImageLibrary:
    """A conversation's images from the store (``tools.images.library.ImageLibrary``)."""

    def __init__(self, store: ImageStore, conversation_id: int) -> None:
        self._store = store
        self._conversation_id = conversation_id

    async def images(self) -> list[ConversationImage]:
        """Every image of the conversation, oldest first, numbered from 1."""
        stored = await self._store.list_images(self._conversation_id)
        return [
            ConversationImage(position, image.image_id, image.caption)
            for position, image in enumerate(stored, start=1)
        ]

    async def load(self, image_id: str) -> bytes | None:
        """The tool's full-size original where kept, else the stored copy; None if gone."""
        image = await self._store.get_image(self._conversation_id, image_id)
        if image is None:
            return None
        return image.original or image.data


async def images_note(store: ImageStore, conversation_id: int) -> dict[str, Any] | None:
    """The system message naming the conversation's images, or None when it has none."""
    stored = await store.list_images(conversation_id)
    if not stored:
        return None
    shown = list(enumerate(stored, start=1))[-NOTE_MAX_IMAGES:]
    lines = [NOTE_HEAD]
    if len(stored) > len(shown):
        lines.append(f"({len(stored) - len(shown)} older images not listed.)")
    for position, image in shown:
        caption = image.caption or "no caption"
        lines.append(
            f"#{position} id {image.image_id[:SHORT_ID]} ({image.width}x{image.height}): {caption}"
        )
    return {"role": "system", "content": "\n".join(lines)}


class ToolImages:
    """Keeps the images a round's tools returned and shows them to the model.

    It is ``TurnRequest.show_tool_images``. With ``show`` False (a model that sees no images)
    the images are still kept for ``edit_image``, and no message is added.
    """

    def __init__(self, store: ImageStore, conversation_id: int, *, show: bool = True) -> None:
        self._store = store
        self._conversation_id = conversation_id
        self._shown = show

    async def __call__(self, outcomes: Sequence[ToolOutcome]) -> dict[str, Any] | None:
        """The user message with the images after the tool results, or None (none to show)."""
        parts: list[dict[str, Any]] = [{"type": "text", "text": TOOL_IMAGES_HEAD}]
        # Decoding takes CPU seconds: on a thread of its own, never the default executor.
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolcord-tool-image")
        try:
            for outcome in outcomes:
                for artifact in outcome.images_for_model:
                    parts.extend(await self._show(outcome.name, artifact, executor))
        finally:
            executor.shutdown(wait=False, cancel_futures=True)
        if len(parts) == 1 or not self._shown:
            return None
        return {"role": "user", "content": parts}

    async def _show(
        self, tool: str, artifact: Artifact, executor: ThreadPoolExecutor
    ) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        try:
            prepared = await loop.run_in_executor(executor, prepare, artifact.data)
        except ImageRejected as exc:
            log.info("a %s image could not be shown to the model: %s", tool, exc)
            return [{"type": "text", "text": f"[{tool} returned {artifact.filename}: {exc}]"}]
        caption = _caption(tool, artifact)
        stored = StoredImage(
            image_id(prepared.data),
            prepared.mime,
            prepared.width,
            prepared.height,
            len(prepared.data),
            prepared.data,
            caption,
            artifact.data if artifact.data != prepared.data else None,
        )
        try:
            await self._store.save_image(self._conversation_id, stored)
        except StoreError as exc:  # the answer goes on; the image is kept with the turn instead
            log.warning("could not keep a %s image for later edits: %s", tool, exc)
        url = data_url(prepared.mime, prepared.data)
        return [
            {"type": "text", "text": f"[{caption}]"},
            {"type": "image_url", "image_url": {"url": url}},
        ]


def _caption(tool: str, artifact: Artifact) -> str:
    about = " ".join((artifact.description or "").split())
    text = f"{tool} made {artifact.filename}" + (f": {about}" if about else "")
    return text[:CAPTION_CHARS]
