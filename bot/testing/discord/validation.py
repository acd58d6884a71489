"""Message validation as real Discord does it (limits, empty messages)."""

from __future__ import annotations

from typing import Any

from bot.testing.discord.rest_common import (
    RestError,
    UploadedFile,
    error,
    field_error,
    form_error,
)
from bot.testing.discord.voice import validate_voice_message

MAX_CONTENT = 2000
MAX_FILES = 10
MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest file a bot may upload to a server without boosts, or a DM (discord.py's default)."""
MAX_REQUEST_BYTES = 25 * 1024 * 1024
"""Largest upload request, all files together."""
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
_EMBED_LIMITS = {"title": 256, "description": 4096}
_FIELD_LIMITS = {"name": 256, "value": 1024}


def validate_message(body: dict[str, Any], files: list[UploadedFile], *, creating: bool) -> None:
    """Raises RestError (50035 form errors, or 50006 for an empty message) like Discord.

    Args:
        creating: a new message must have content, files, embeds, stickers, components or a poll.
    """
    sizes = [len(upload.data) for upload in files]
    if any(size > MAX_FILE_BYTES for size in sizes) or sum(sizes) > MAX_REQUEST_BYTES:
        raise RestError(error(413, 40005, "Request entity too large"))
    errors: dict[str, Any] = {}
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors["content"] = field_error("BASE_TYPE_STRING", "Must be a string.")
    elif isinstance(content, str) and len(content) > MAX_CONTENT:
        errors["content"] = field_error(
            "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length."
        )
    if len(files) > MAX_FILES:
        errors["files"] = field_error(
            "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length."
        )
    embed_errors = _embed_errors(body.get("embeds") or [])
    if embed_errors:
        errors["embeds"] = embed_errors
    if errors:
        raise RestError(form_error(errors))
    if creating and _is_empty(body, files):
        raise RestError(error(400, 50006, "Cannot send an empty message"))
    if creating:
        validate_voice_message(body, files)


def _is_empty(body: dict[str, Any], files: list[UploadedFile]) -> bool:
    keys = ("embeds", "sticker_ids", "components", "poll")
    return not body.get("content") and not files and not any(body.get(key) for key in keys)


def _embed_errors(embeds: Any) -> dict[str, Any]:
    if not isinstance(embeds, list):
        return field_error("BASE_TYPE_ARRAY", "Must be an array.")
    if len(embeds) > MAX_EMBEDS:
        return field_error("BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
    errors: dict[str, Any] = {}
    total = 0
    for index, embed in enumerate(embeds):
        embed_errors, size = _one_embed(embed if isinstance(embed, dict) else {})
        total += size
        if embed_errors:
            errors[str(index)] = embed_errors
    if not errors and total > MAX_EMBED_TOTAL:
        return {
            "_errors": [
                {
                    "code": "MAX_EMBED_SIZE_EXCEEDED",
                    "message": f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
                }
            ]
        }
    return errors


def _one_embed(embed: dict[str, Any]) -> tuple[dict[str, Any], int]:
    errors: dict[str, Any] = {}
    size = 0
    for key, limit in _EMBED_LIMITS.items():
        text = str(embed.get(key) or "")
        size += len(text)
        if len(text) > limit:
            errors[key] = _too_long(limit)
    fields = embed.get("fields") or []
    if len(fields) > 25:
        errors["fields"] = field_error("BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for index, field in enumerate(fields[:25]):
        for key, limit in _FIELD_LIMITS.items():
            text = str(field.get(key) or "")
            size += len(text)
            if len(text) > limit:
                errors.setdefault("fields", {}).setdefault(str(index), {})[key] = _too_long(limit)
    for part, limit in (("footer", 2048), ("author", 256)):
        key = "text" if part == "footer" else "name"
        text = str((embed.get(part) or {}).get(key) or "")
        size += len(text)
        if len(text) > limit:
            errors[part] = {key: _too_long(limit)}
    return errors, size


def _too_long(limit: int) -> dict[str, Any]:
    return field_error("BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
