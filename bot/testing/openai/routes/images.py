"""``POST /v1/images/generations`` and ``POST /v1/images/edits`` (multipart)."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from aiohttp import web

from .. import tokens
from ..errors import ApiError
from ..ids import new_id
from ..media.png import solid_png
from ..media.sniff import sniff_image
from ..multipart import UploadedFile
from ..replies import ImageReply
from ..script import ImageScript
from ..state import EmulatorState
from ..validation import SchemaIssue
from .common import before_response, receive_form, receive_json, reject, respond_json, unsupported

DEFAULT_MODEL = "gpt-image-1.5"
REPORTED_SIZES = frozenset({"1024x1024", "1024x1536", "1536x1024"})
QUALITIES = frozenset({"low", "medium", "high"})
IMAGE_KINDS = frozenset({"png", "jpeg", "webp"})
FILES_PATH = "/v1/_emulator/files/"


async def generations(
    state: EmulatorState, script: ImageScript, request: web.Request
) -> web.Response:
    """Answer ``images.generate``."""
    body = await receive_json(state, request, "CreateImageRequest")
    return await _answer(state, script, request, body)


async def edits(state: EmulatorState, script: ImageScript, request: web.Request) -> web.Response:
    """Answer ``images.edit``: the uploads must really be PNG, JPEG or WEBP (the mask PNG)."""
    fields = await receive_form(state, request, "CreateImageEditRequest")
    images = fields.get("image")
    for upload in images if isinstance(images, list) else [images]:
        _check_image(state, request, upload, "image", IMAGE_KINDS)
    if fields.get("mask") is not None:
        _check_image(state, request, fields["mask"], "mask", frozenset({"png"}))
    return await _answer(state, script, request, fields)


def _check_image(
    state: EmulatorState, request: web.Request, upload: Any, param: str, allowed: frozenset[str]
) -> None:
    if not isinstance(upload, UploadedFile):
        issue = SchemaIssue((param,), "must be a file upload", "type")
        error = ApiError(
            400, f"'{param}' must be a file, not a text field.", param=param, code="invalid_type"
        )
        raise reject(state, request, "CreateImageEditRequest", issue, error)
    kind = sniff_image(upload.data)
    if kind in allowed:
        return
    declared = upload.content_type or "application/octet-stream"
    supported = ", ".join(f"'image/{k}'" for k in sorted(allowed))
    issue = SchemaIssue(
        (param,), f"file bytes are {kind or 'not an image'}, not {sorted(allowed)}", "format"
    )
    error = ApiError(
        400,
        f"Invalid file '{param}': unsupported mimetype ('{declared}'). Supported file formats are "
        f"{supported}.",
        param=param,
        code="unsupported_file_mimetype",
    )
    raise reject(state, request, "CreateImageEditRequest", issue, error)


async def _answer(
    state: EmulatorState, script: ImageScript, request: web.Request, body: dict[str, Any]
) -> web.Response:
    if body.get("stream") is True:
        raise unsupported("streamed image generation (stream=true)")
    step = await script.next_step(body, pause=state.pause)
    model = str(body.get("model") or DEFAULT_MODEL)
    await before_response(state, request, step.fault, model, stream=False)
    reply = step.reply if isinstance(step.reply, ImageReply) else ImageReply()
    await state.pause(reply.latency if reply.latency is not None else script.latency)
    data = _images_body(state, request, body, reply)
    return respond_json(state, request, data, "ImagesResponse", fault=step.fault)


def _images_body(
    state: EmulatorState, request: web.Request, body: dict[str, Any], reply: ImageReply
) -> dict[str, Any]:
    prompt = str(body.get("prompt") or "")
    count = body["n"] if isinstance(body.get("n"), int) else 1
    images = (
        list(reply.images)
        if reply.images is not None
        else [_png_for(prompt, i) for i in range(count)]
    )
    entries = [_entry(state, request, body, image) for image in images]
    if reply.revised_prompt is not None:
        for entry in entries:
            entry["revised_prompt"] = reply.revised_prompt
    data: dict[str, Any] = {
        "created": int(time.time()),
        "data": entries,
        "background": "transparent" if body.get("background") == "transparent" else "opaque",
        "output_format": "png",
        "quality": body.get("quality") if body.get("quality") in QUALITIES else "medium",
        "usage": _usage(prompt, len(images)),
    }
    if body.get("size") in REPORTED_SIZES:
        data["size"] = body["size"]
    return data


def _entry(
    state: EmulatorState, request: web.Request, body: dict[str, Any], image: bytes
) -> dict[str, Any]:
    if body.get("response_format") != "url":
        return {"b64_json": base64.b64encode(image).decode()}
    name = new_id("img_") + ".png"
    state.files[name] = (image, "image/png")
    return {"url": f"{request.scheme}://{request.host}{FILES_PATH}{name}"}


def _png_for(prompt: str, index: int) -> bytes:
    digest = hashlib.sha256(f"{index}:{prompt}".encode()).digest()
    return solid_png(64, 64, (digest[0], digest[1], digest[2]))


def _usage(prompt: str, count: int) -> dict[str, Any]:
    text = tokens.text_tokens(prompt)
    output = 272 * count
    return {
        "input_tokens": text,
        "input_tokens_details": {"text_tokens": text, "image_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"image_tokens": output, "text_tokens": 0},
        "total_tokens": text + output,
    }


async def served_file(state: EmulatorState, request: web.Request) -> web.Response:
    """``GET /v1/_emulator/files/{name}``: an image generated with ``response_format="url"``."""
    found = state.files.get(request.match_info["name"])
    if found is None:
        raise ApiError(404, "No such emulator file.", code="not_found")
    data, content_type = found
    return web.Response(body=data, content_type=content_type)
