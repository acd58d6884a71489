"""The images a conversation's turns refer to, stored once per conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.store.models import StoredImage
from bot.store.sql.base import SqlConcern
from bot.store.sql.program import Executor, marks, one, rows, run, single
from bot.store.sql.rows import IMAGE_COLUMNS, image_from, image_values

INSERT_IMAGE = (
    "INSERT INTO images (conversation_id, id, mime, width, height, size, data, caption, "
    "original, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (conversation_id, id) DO NOTHING"
)
SAVE_IMAGE = (
    "INSERT INTO images (conversation_id, id, mime, width, height, size, data, caption, "
    "original, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (conversation_id, id) DO UPDATE SET "
    "original = COALESCE(images.original, excluded.original), "
    "caption = CASE WHEN images.caption = '' THEN excluded.caption ELSE images.caption END"
)


class ImagesSql(SqlConcern):
    """``ImageStore`` in SQL."""

    async def list_images(self, conversation_id: int) -> list[StoredImage]:
        """The images stored for a conversation, oldest first, without their bytes."""
        statement = rows(
            f"SELECT {IMAGE_COLUMNS} FROM images WHERE conversation_id = ? ORDER BY created_at, id",
            conversation_id,
        )
        found = await self._sql.read(lambda: single(statement))
        return [image_from(row) for row in found]

    async def get_image(self, conversation_id: int, image_id: str) -> StoredImage | None:
        """One image of a conversation with its bytes (and a tool's original), or ``None``."""
        statement = one(
            f"SELECT {IMAGE_COLUMNS}, data, original FROM images WHERE conversation_id = ? "
            "AND id = ?",
            conversation_id,
            image_id,
        )
        row = await self._sql.read(lambda: single(statement))
        if row is None:
            return None
        original = bytes(row["original"]) if row["original"] is not None else None
        return replace(image_from(row, bytes(row["data"])), original=original)

    async def save_image(self, conversation_id: int, image: StoredImage) -> None:
        """Store an image before a turn refers to it (a tool's result, with its original)."""
        statement = run(SAVE_IMAGE, *image_values(conversation_id, image, self._now()))
        await self._sql.write(lambda: single(statement))


async def images_by_id(
    sql: Executor, conversation_id: int, ids: Sequence[str]
) -> dict[str, StoredImage]:
    """Images of a conversation with their bytes, by id (for the window)."""
    statement = rows(
        f"SELECT {IMAGE_COLUMNS}, data FROM images WHERE conversation_id = ? "
        f"AND id IN ({marks(len(ids))})",
        conversation_id,
        *ids,
    )
    found = await sql.read(lambda: single(statement))
    return {row["id"]: image_from(row, bytes(row["data"])) for row in found}
