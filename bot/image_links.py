"""Image links in a message as vision input, fetched through the SSRF-safe fetcher.

A message's links that name an image file (``.png``, ``.jpg``, ``.jpeg``, ``.gif``, ``.webp``) and
the images of the embeds Discord attached to it are fetched with :class:`tools.net.SafeFetcher`
(no private addresses, checked redirects, size and time caps), checked by their magic bytes and
downscaled like attachments (``bot.images``). A link that cannot be read becomes a one-line note;
it never fails the turn. Links to pages are left alone: they are text to the model.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import discord

from bot.images import ImageRejected, data_url, prepare, sniff_mime
from bot.settings import InputsSettings
from tools import Artifact
from tools.net import FetchDenied, FetchFailed, FetchPolicy, SafeFetcher

log = logging.getLogger("toolcord.image_links")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_URL = re.compile(r"https?://[^\s<>()\"']+", re.IGNORECASE)
ACCEPTED = ("image/*", "application/octet-stream", "binary/octet-stream")


@dataclass
class LinkedImages:
    """What a message's image links add to its turn."""

    parts: list[dict[str, Any]] = field(default_factory=list)
    files: list[Artifact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def image_links(message: discord.Message, limit: int) -> list[str]:
    """Up to ``limit`` image URLs: links to image files in the text, then embed images."""
    embedded = [
        url for embed in message.embeds for url in (embed.image.url, embed.thumbnail.url) if url
    ]
    return image_urls(message.content or "", embedded, limit)


def image_urls(text: str, embedded: Sequence[str], limit: int) -> list[str]:
    """Links in ``text`` whose path names an image file, then ``embedded``; once each."""
    found: list[str] = []
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(".,;:!?")
        if urlsplit(url).path.lower().endswith(IMAGE_SUFFIXES):
            found.append(url)
    found.extend(embedded)
    return list(dict.fromkeys(found))[:limit]


def link_policy(settings: InputsSettings) -> FetchPolicy:
    """The fetch policy of image links (private networks only where the owner allowed them)."""
    return FetchPolicy(
        allow_networks=tuple(settings.link_allow_networks),
        allow_ports=tuple(settings.link_allow_ports),
        max_bytes=settings.link_max_bytes,
        timeout_s=settings.link_timeout_s,
    )


async def read_image_links(
    urls: Sequence[str],
    settings: InputsSettings,
    images: ThreadPoolExecutor,
    fetcher: SafeFetcher | None = None,
) -> LinkedImages:
    """Fetch ``urls`` (one at a time) into image parts, files for tools and notes."""
    linked = LinkedImages()
    if not urls:
        return linked
    if fetcher is not None:
        await _read_all(urls, settings, images, fetcher, linked)
        return linked
    async with SafeFetcher(policy=link_policy(settings)) as own:
        await _read_all(urls, settings, images, own, linked)
    return linked


async def _read_all(
    urls: Sequence[str],
    settings: InputsSettings,
    images: ThreadPoolExecutor,
    fetcher: SafeFetcher,
    linked: LinkedImages,
) -> None:
    for url in urls:
        reason = await _read_one(url, settings, images, fetcher, linked)
        if reason:
            linked.notes.append(f"[image link {url}: {reason}; not shown]")


async def _read_one(
    url: str,
    settings: InputsSettings,
    images: ThreadPoolExecutor,
    fetcher: SafeFetcher,
    linked: LinkedImages,
) -> str:
    """Read one link into ``linked``; returns why it was not read ("" when it was)."""
    try:
        result = await fetcher.get(
            url,
            accept=ACCEPTED,
            max_bytes=settings.link_max_bytes,
            timeout_s=settings.link_timeout_s,
        )
    except FetchDenied as error:
        return f"not fetched ({error.reason})"
    except FetchFailed as error:
        return f"could not be read ({error.reason})"
    if result.truncated:
        return f"larger than {settings.link_max_bytes:,} bytes"
    data = result.body
    if sniff_mime(data) is None:
        return "not a PNG, JPEG, GIF or WebP image"
    try:
        prepared = await asyncio.get_running_loop().run_in_executor(images, prepare, data)
    except ImageRejected as exc:
        return str(exc)
    linked.parts.append(
        {"type": "image_url", "image_url": {"url": data_url(prepared.mime, prepared.data)}}
    )
    name = urlsplit(url).path.rsplit("/", 1)[-1] or "linked-image"
    linked.files.append(Artifact(name, data, sniff_mime(data) or "image/png"))
    log.info("image link read: %d bytes", len(data))
    return ""
