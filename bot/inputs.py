"""A Discord message's attachments as model input: image parts, inlined text, short notes.

Images, PDFs and text files are read only from the CDN the message came from (the configured
Discord CDN or Discord's own media hosts), within type and size limits; anything else becomes a
one-line note. PDFs become their text page by page (``bot.documents``); image links in the text
and the images of the message's embeds are fetched through the SSRF-safe fetcher
(``bot.image_links``).
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

from bot.documents import PdfLimits, PdfUnreadable, pdf_message, read_pdf_bounded
from bot.image_links import image_links, read_image_links
from bot.images import ImageRejected, data_url, prepare
from bot.settings import InputsSettings
from tools import Artifact
from tools.net import SafeFetcher

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
    if content_type == "application/pdf" or attachment.filename.lower().endswith(".pdf"):
        return "pdf"
    if content_type.startswith("text/") or attachment.filename.lower().endswith(TEXT_SUFFIXES):
        return "text"
    return "other"


async def read_inputs(
    message: discord.Message,
    cdn_base_url: str,
    settings: InputsSettings | None = None,
    fetcher: SafeFetcher | None = None,
) -> MessageInputs:
    """Read the message's attachments and image links into parts, inlined text and files.

    Args:
        message: The Discord message.
        cdn_base_url: The Discord CDN attachments may come from.
        settings: The ``[inputs]`` settings (defaults when None).
        fetcher: The safe fetcher image links go through (default: one built from ``settings``).
    """
    config = settings or InputsSettings()
    inputs = MessageInputs()
    notes: list[str] = []
    # Decoding an image or a PDF takes up to seconds of CPU: on threads of their own, never on
    # the default executor that DNS lookups (getaddrinfo) wait for.
    images = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolcord-image")
    documents = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolcord-pdf")
    reader = _Reader(inputs, images, documents, config)
    try:
        for attachment in message.attachments:
            kind = _kind(attachment)
            if kind == "voice":
                continue
            if kind == "other" or not _allowed_host(attachment.url, cdn_base_url):
                size = attachment.size
                notes.append(f"[attached file {attachment.filename} ({size} bytes): not read]")
                continue
            note = await reader.read(attachment, kind)
            if note:
                notes.append(note)
        if config.image_links:
            urls = image_links(message, config.link_max_images)
            linked = await read_image_links(urls, config, images, fetcher)
            inputs.parts.extend(linked.parts)
            inputs.files.extend(linked.files)
            notes.extend(linked.notes)
    finally:
        images.shutdown(wait=False, cancel_futures=True)
        documents.shutdown(wait=False, cancel_futures=True)
    inputs.text = "\n".join(notes)
    return inputs


@dataclass
class _Reader:
    inputs: MessageInputs
    images: ThreadPoolExecutor
    documents: ThreadPoolExecutor
    settings: InputsSettings

    async def read(self, attachment: discord.Attachment, kind: str) -> str:
        if kind == "pdf":
            return await self._read_pdf(attachment)
        return await _read_one(attachment, kind, self.inputs, self.images)

    async def _read_pdf(self, attachment: discord.Attachment) -> str:
        name = attachment.filename
        if attachment.size > self.settings.pdf_max_bytes:
            return f"[PDF {name}: over {self.settings.pdf_max_bytes:,} bytes, not read]"
        data = await _download(attachment)
        if data is None:
            return f"[PDF {name}: could not be downloaded]"
        limits = PdfLimits(
            self.settings.pdf_max_pages, self.settings.pdf_max_chars, self.settings.pdf_timeout_s
        )
        try:
            pdf = await read_pdf_bounded(data, limits, self.documents)
        except PdfUnreadable as exc:
            return f"[PDF {name}: {exc}; not read]"
        return pdf_message(name, pdf, limits)


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
