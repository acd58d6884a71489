"""A Discord message's attachments as model input: image parts, inlined text, short notes.

Images and text files are read only from the CDN the message came from (the configured Discord CDN
or Discord's own media hosts), within type and size limits; anything else becomes a one-line note.
Images are checked by their magic bytes and re-encoded at the size the model uses (``bot.images``)
before they become parts; tools still get the original bytes. Voice messages are left to the voice
cog.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import discord

from bot.images import ImageRejected, data_url, prepare
from tools import Artifact

log = logging.getLogger("toolcord.inputs")

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
TEXT_SUFFIXES = (
    ".txt",
    ".md",
    ".py",
    ".json",
    ".csv",
    ".log",
    ".yaml",
    ".yml",
    ".toml",
    ".js",
    ".ts",
)
DISCORD_CDN_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})
MAX_IMAGE_BYTES = 8 * 1024 * 1024
MAX_IMAGES = 4
MAX_TEXT_BYTES = 100_000
MAX_TEXT_CHARS = 20_000


@dataclass
class MessageInputs:
    """What the attachments add to a user turn."""

    text: str = ""
    parts: list[dict[str, Any]] = field(default_factory=list)
    files: list[Artifact] = field(default_factory=list)


def _allowed_host(url: str, cdn_base_url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    configured = (urlsplit(cdn_base_url).hostname or "").lower()
    return host in DISCORD_CDN_HOSTS or (bool(configured) and host == configured)


def _kind(attachment: discord.Attachment) -> str:
    if attachment.is_voice_message():
        return "voice"
    content_type = (attachment.content_type or "").split(";")[0].strip().lower()
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type.startswith("text/") or attachment.filename.lower().endswith(TEXT_SUFFIXES):
        return "text"
    return "other"


async def read_inputs(message: discord.Message, cdn_base_url: str) -> MessageInputs:
    """Read the message's attachments into parts, inlined text and files for tools."""
    inputs = MessageInputs()
    notes: list[str] = []
    # Decoding an image takes up to seconds of CPU: on a thread of its own, never on the default
    # executor that DNS lookups (getaddrinfo) wait for.
    images = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolcord-image")
    try:
        for attachment in message.attachments:
            kind = _kind(attachment)
            if kind == "voice":
                continue
            if kind == "other" or not _allowed_host(attachment.url, cdn_base_url):
                size = attachment.size
                notes.append(f"[attached file {attachment.filename} ({size} bytes): not read]")
                continue
            note = await _read_one(attachment, kind, inputs, images)
            if note:
                notes.append(note)
    finally:
        images.shutdown(wait=False, cancel_futures=True)
    inputs.text = "\n".join(notes)
    return inputs


async def _read_one(
    attachment: discord.Attachment, kind: str, inputs: MessageInputs, images: ThreadPoolExecutor
) -> str:
    if kind == "image":
        if attachment.size > MAX_IMAGE_BYTES or len(inputs.files) >= MAX_IMAGES:
            return f"[image {attachment.filename}: too large or too many images, not read]"
        data = await _download(attachment)
        if data is None:
            return f"[image {attachment.filename}: could not be downloaded]"
        try:
            prepared = await asyncio.get_running_loop().run_in_executor(images, prepare, data)
        except ImageRejected as exc:
            return f"[image {attachment.filename}: {exc}; not read]"
        url = data_url(prepared.mime, prepared.data)
        inputs.parts.append({"type": "image_url", "image_url": {"url": url}})
        content_type = (attachment.content_type or "image/png").split(";")[0]
        inputs.files.append(Artifact(attachment.filename, data, content_type))
        return ""
    if attachment.size > MAX_TEXT_BYTES:
        return f"[text file {attachment.filename}: over {MAX_TEXT_BYTES} bytes, not read]"
    data = await _download(attachment)
    if data is None:
        return f"[text file {attachment.filename}: could not be downloaded]"
    text = data.decode("utf-8", errors="replace")[:MAX_TEXT_CHARS]
    return f"Attached file {attachment.filename}:\n```\n{text.replace('```', '` ` `')}\n```"


async def _download(attachment: discord.Attachment) -> bytes | None:
    try:
        return await attachment.read()
    except (discord.HTTPException, discord.NotFound) as exc:
        log.warning("could not download attachment %s: %s", attachment.id, exc)
        return None
