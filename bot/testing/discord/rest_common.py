"""Shared REST pieces: request/response types, Discord error bodies, body parsing."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from bot.testing.discord.recorder import MultipartPart, RecordedRequest

JSON_TYPE = "application/json"


@dataclasses.dataclass(frozen=True)
class RestResponse:
    """What a route handler answers; ``body`` is JSON-able (or None for an empty body)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def ok(body: Any, status: int = 200) -> RestResponse:
    return RestResponse(status, body)


def no_content() -> RestResponse:
    return RestResponse(204, None)


def error(status: int, code: int, message: str, errors: Any = None) -> RestResponse:
    """A Discord error answer: ``{"message", "code"}`` (+ ``errors`` for form errors)."""
    body: dict[str, Any] = {"message": message, "code": code}
    if errors is not None:
        body["errors"] = errors
    return RestResponse(status, body)


def form_error(errors: dict[str, Any]) -> RestResponse:
    """400 code 50035 (Invalid Form Body) with per-field errors."""
    return error(400, 50035, "Invalid Form Body", errors)


def field_error(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def to_web_response(response: RestResponse) -> web.Response:
    """Builds the aiohttp response; JSON gets exactly ``Content-Type: application/json``."""
    headers = dict(response.headers)
    if response.body is None:
        return web.Response(status=response.status, headers=headers)
    if isinstance(response.body, str | bytes):
        headers.setdefault("Content-Type", "text/html")
        return web.Response(status=response.status, body=response.body, headers=headers)
    headers["Content-Type"] = JSON_TYPE
    data = json.dumps(response.body, separators=(",", ":"), ensure_ascii=False).encode()
    return web.Response(status=response.status, body=data, headers=headers)


@dataclasses.dataclass(frozen=True)
class UploadedFile:
    """A ``files[n]`` part of a multipart body."""

    index: int
    filename: str
    content_type: str | None
    data: bytes


@dataclasses.dataclass(eq=False)
class RestRequest:
    """A parsed request as route handlers see it."""

    record: RecordedRequest
    params: dict[str, str]
    json: Any
    files: list[UploadedFile]

    @property
    def query(self) -> dict[str, str]:
        return self.record.query

    def param_int(self, name: str) -> int:
        return int(self.params[name])

    def body(self) -> dict[str, Any]:
        return self.json if isinstance(self.json, dict) else {}


Handler = Callable[[RestRequest], Awaitable[RestResponse]]

_FILE_FIELD = re.compile(r"files\[(\d+)\]|file(\d*)")


async def read_body(request: web.Request) -> tuple[Any, list[MultipartPart], bool]:
    """Returns ``(json, parts, valid)``; multipart JSON comes from the ``payload_json`` part."""
    if request.content_type.startswith("multipart/"):
        return await _read_multipart(request)
    raw = await request.read()
    if not raw:
        return None, [], True
    try:
        return json.loads(raw), [], True
    except ValueError:
        return None, [], False


async def _read_multipart(request: web.Request) -> tuple[Any, list[MultipartPart], bool]:
    reader = await request.multipart()
    parts: list[MultipartPart] = []
    payload: Any = None
    valid = True
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        data = bytes(await part.read(decode=False))
        content_type = part.headers.get("Content-Type")
        parts.append(MultipartPart(part.name, part.filename, content_type, data))
        if part.name == "payload_json":
            try:
                payload = json.loads(data)
            except ValueError:
                valid = False
    return payload, parts, valid


def uploaded_files(parts: list[MultipartPart]) -> list[UploadedFile]:
    """The file parts, numbered by their ``files[n]`` field name."""
    files: list[UploadedFile] = []
    for position, part in enumerate(p for p in parts if p.filename is not None):
        match = _FILE_FIELD.fullmatch(part.name or "")
        index = int(next((g for g in match.groups() if g), position)) if match else position
        files.append(UploadedFile(index, part.filename or "file", part.content_type, part.data))
    return files


class RestError(Exception):
    """Raised by services to answer a request with a Discord error."""

    def __init__(self, response: RestResponse) -> None:
        super().__init__(response.body)
        self.response = response


def unknown(kind: str, code: int) -> RestError:
    """404 ``Unknown <kind>`` with its Discord code (e.g. Channel 10003, Message 10008)."""
    return RestError(error(404, code, f"Unknown {kind}"))


def missing_permissions() -> RestError:
    return RestError(error(403, 50013, "Missing Permissions"))
