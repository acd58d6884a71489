"""Form values in, answers out: what every action of the playground's server shares.

An action answers JSON to the page's script (``Accept: application/json``) and redirects back to
the channel (or shows a short error page) for a plain form post without script.
"""

from __future__ import annotations

import html
import math
from typing import Any

from aiohttp import web

from bot.testing.discord import Channel

from .palette import Upload


def is_file(value: object) -> bool:
    return isinstance(value, web.FileField) and bool(value.filename)


def upload_of(value: Any) -> Upload:
    data = value.file.read()
    content_type = value.content_type
    if content_type in ("", "application/octet-stream"):
        content_type = None
    return Upload(str(value.filename), data, content_type)


def int_or_none(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def float_or_none(value: object) -> float | None:
    try:
        number = float(str(value or ""))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def wants_json(request: web.Request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def done(request: web.Request, channel: Channel, data: dict[str, Any]) -> web.StreamResponse:
    if wants_json(request):
        return web.json_response({"ok": True, **data})
    raise web.HTTPSeeOther(f"/channels/{channel.id}")


def refusal(request: web.Request, message: str) -> web.StreamResponse:
    if wants_json(request):
        return web.json_response({"ok": False, "error": message}, status=403)
    return web.Response(text=message, status=403)


def failure(request: web.Request, channel: Channel, message: str) -> web.StreamResponse:
    if wants_json(request):
        return web.json_response({"ok": False, "error": message}, status=400)
    body = (
        f"<!doctype html><title>Not sent</title><p>{html.escape(message)}</p>"
        f'<p><a href="/channels/{channel.id}">Back to the channel</a></p>'
    )
    return web.Response(text=body, status=400, content_type="text/html")
