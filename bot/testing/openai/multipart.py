"""Read ``multipart/form-data`` requests the way OpenAI's SDK writes them.

The SDK flattens nested values with brackets (``image[]`` for a list of files,
``timestamp_granularities[]`` for a list, ``chunking_strategy[type]`` for an object) and sends
every scalar as text. :func:`read_form` rebuilds the nested value, and :func:`coerce_to_schema`
turns ``"2"``/``"0.5"``/``"true"`` back into numbers and booleans where the schema asks for them,
so the form can be validated like a JSON body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from .validation import SchemaBook

READ_CHUNK = 1 << 16
_INTEGER = re.compile(r"^-?\d+$")
_KEY_PART = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes
    size: int

    @property
    def truncated(self) -> bool:
        """True when the part was larger than the emulator kept (``size`` is the real size)."""
        return self.size > len(self.data)

    def placeholder(self) -> str:
        """The string that stands for this file when the form is validated as JSON."""
        return f"<file {self.filename or self.field}: {self.size} bytes>"


@dataclass
class Form:
    """The fields of a multipart request, nested, with the files in place."""

    fields: dict[str, Any]
    files: list[UploadedFile]


async def read_form(request: web.Request, *, keep_bytes: int) -> Form:
    """Read every part of ``request``; keep at most ``keep_bytes`` of each file."""
    form = Form(fields={}, files=[])
    reader = await request.multipart()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        value: Any
        if part.filename is not None:
            value = await _read_file(part, keep_bytes)
            form.files.append(value)
        else:
            value = (await part.read(decode=True)).decode(part.get_charset("utf-8"), "replace")
        _place(form.fields, part.name, value)
    return form


async def _read_file(part: BodyPartReader, keep_bytes: int) -> UploadedFile:
    kept = bytearray()
    size = 0
    while chunk := await part.read_chunk(READ_CHUNK):
        size += len(chunk)
        if len(kept) < keep_bytes:
            kept.extend(chunk[: keep_bytes - len(kept)])
    content_type = part.headers.get("Content-Type")
    return UploadedFile(str(part.name), part.filename, content_type, bytes(kept), size)


def _place(fields: dict[str, Any], name: str, value: Any) -> None:
    head = name.split("[", 1)[0]
    keys: list[str] = [head, *_KEY_PART.findall(name[len(head) :])]
    target: Any = fields
    for index, key in enumerate(keys):
        last = index == len(keys) - 1
        following: Any = None if last else ([] if keys[index + 1] == "" else {})
        if isinstance(target, list):
            if last:
                target.append(value)
                return
            target.append(following)
            target = following
            continue
        if last:
            _assign(target, key, value)
            return
        current = target.get(key)
        if not isinstance(current, (list, dict)):
            current = following
            target[key] = current
        target = current


def _assign(target: dict[str, Any], key: str, value: Any) -> None:
    if key in target:  # a repeated plain field becomes a list
        existing = target[key]
        target[key] = [*existing, value] if isinstance(existing, list) else [existing, value]
    else:
        target[key] = value


def for_validation(value: Any) -> Any:
    """Return ``value`` with every :class:`UploadedFile` replaced by its placeholder string."""
    if isinstance(value, UploadedFile):
        return value.placeholder()
    if isinstance(value, dict):
        return {key: for_validation(item) for key, item in value.items()}
    if isinstance(value, list):
        return [for_validation(item) for item in value]
    return value


def coerce_to_schema(book: SchemaBook, schema: Any, value: Any, depth: int = 0) -> Any:
    """Turn form strings into the numbers/booleans ``schema`` expects, recursively."""
    if depth > 16:
        return value
    if isinstance(value, dict):
        properties = _properties(book, schema)
        return {
            k: coerce_to_schema(book, properties.get(k), v, depth + 1) for k, v in value.items()
        }
    if isinstance(value, list):
        items = _items(book, schema)
        return [coerce_to_schema(book, items, item, depth + 1) for item in value]
    if isinstance(value, str):
        return _coerce_scalar(value, _types(book, schema))
    return value


def _coerce_scalar(value: str, types: set[str]) -> Any:
    if "string" in types and not types & {"integer", "number", "boolean"}:
        return value
    if "integer" in types and _INTEGER.match(value):
        return int(value)
    if "number" in types:
        try:
            return float(value)
        except ValueError:
            pass
    if "boolean" in types and value in ("true", "false"):
        return value == "true"
    return value


def _branches(book: SchemaBook, schema: Any, depth: int = 0) -> list[Mapping[str, Any]]:
    node = book.resolve(schema)
    found = [node]
    if depth < 8:
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in node.get(key) or ():
                found.extend(_branches(book, sub, depth + 1))
    return found


def _types(book: SchemaBook, schema: Any) -> set[str]:
    types: set[str] = set()
    for node in _branches(book, schema):
        kind = node.get("type")
        types.update([kind] if isinstance(kind, str) else kind or ())
    return types


def _properties(book: SchemaBook, schema: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for node in _branches(book, schema):
        for name, sub in (node.get("properties") or {}).items():
            properties.setdefault(name, sub)
    return properties


def _items(book: SchemaBook, schema: Any) -> Any:
    for node in _branches(book, schema):
        if "items" in node:
            return node["items"]
    return None
