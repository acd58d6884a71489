"""Builders for the knowledge tests: a Markdown FAQ, a one-page PDF written by hand, commands."""

from __future__ import annotations

import json
from typing import Any

from bot.testing.discord import DiscordEmulator
from cogs.admin import sync_commands

FAQ = """# Shop FAQ

## Refunds
Refunds take five business days after the parcel comes back.

## Shipping
Parcels leave the Lyon warehouse every morning.

## Parts
The replacement adapter has the product code ZX-4411-Q.
"""
WARRANTY = "The warranty covers the kettle for three years from purchase."


def one_page_pdf(text: str) -> bytes:
    """A valid one-page PDF whose page shows ``text`` (Helvetica; what pypdf extracts)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


async def synced(bot: Any) -> None:
    """Sync the command tree so the emulator knows /knowledge and /memory."""
    await sync_commands(bot)


async def run_command(
    emu: DiscordEmulator,
    name: str,
    /,
    *,
    user: str = "owner",
    where: str = "general",
    **options: Any,
) -> str:
    """Inject ``/name``, wait for its (ephemeral) answer and return the text."""
    handle = await emu.inject_interaction(name, user=user, channel=where, options=options or None)
    await handle.wait(lambda h: bool(h.final_content()), timeout=30)
    assert handle.deferred and handle.ephemeral, name
    return str(handle.final_content())


def tool_results(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The decoded ``tool`` messages of one chat request."""
    return [json.loads(m["content"]) for m in request["messages"] if m["role"] == "tool"]
