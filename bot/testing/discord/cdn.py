"""The emulator's CDN: attachment bytes by path, plus a placeholder PNG for avatars and icons."""

from __future__ import annotations

import dataclasses
import secrets
import struct
import time
import urllib.parse
import zlib

_IMAGE_PREFIXES = ("embed/avatars/", "avatars/", "icons/", "banners/", "guilds/", "splashes/")


@dataclasses.dataclass(frozen=True)
class CdnObject:
    data: bytes
    content_type: str


def placeholder_png() -> bytes:
    """A valid 1x1 transparent PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


class CdnStore:
    """Maps CDN paths (below ``/cdn/``) to bytes; ``media/`` proxy paths share the same objects."""

    def __init__(self) -> None:
        self._objects: dict[str, CdnObject] = {}
        self._png: bytes | None = None
        self.base_url = ""

    def put_attachment(
        self, scope_id: int, attachment_id: int, filename: str, data: bytes, content_type: str
    ) -> tuple[str, str]:
        """Stores bytes; returns ``(url, proxy_url)`` with Discord-like signed query strings."""
        if not self.base_url:
            raise RuntimeError("the emulator has no address yet: await emu.start() first")
        path = f"attachments/{scope_id}/{attachment_id}/{filename}"
        self._objects[path] = CdnObject(data, content_type)
        quoted = urllib.parse.quote(path)
        expires = int(time.time()) + 86_400
        query = f"?ex={expires:x}&is={int(time.time()):x}&hm={secrets.token_hex(32)}&"
        return f"{self.base_url}/{quoted}{query}", f"{self.base_url}/media/{quoted}{query}"

    def get(self, path: str) -> CdnObject | None:
        """Looks up a path below ``/cdn/`` (without leading slash)."""
        if path.startswith("media/"):
            path = path[len("media/") :]
        found = self._objects.get(path)
        if found is None and path.startswith(_IMAGE_PREFIXES):
            if self._png is None:
                self._png = placeholder_png()
            return CdnObject(self._png, "image/png")
        return found
