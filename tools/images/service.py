"""Image generation and editing through the OpenAI client, without hidden retries.

:func:`generate` and :func:`edit` are plain async functions (no ToolContext), so ``/imagine`` and
the tools share them. Every request runs with ``max_retries=0``: the SDK sends no idempotency key,
so a retried request could make (and bill) the images twice; the tool ledger prevents repeats
instead. Failures raise :class:`ImageError`, whose message is safe for users and the model.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import openai
from openai.types import ImagesResponse

from tools.context import Artifact
from tools.errors import ToolFailed
from tools.images.files import content_type_of, image_kind
from tools.images.settings import QUALITIES, SIZES, ImagesSettings, load_settings

log = logging.getLogger("toolcord.tools.images")

ImageErrorKind = Literal[
    "content_policy", "rate_limited", "timeout", "unavailable", "misconfigured", "bad_request"
]
POLICY_CODES = frozenset({"content_policy_violation", "moderation_blocked"})
ALT_TEXT_CHARS = 300
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


class ImageError(Exception):
    """An image request made no images; ``message`` is safe to show users and the model.

    Attributes:
        kind: What went wrong, for code (``content_policy``, ``rate_limited``, ``timeout``,
            ``unavailable``, ``misconfigured``, ``bad_request``).
        message: A polite sentence for the user.
    """

    def __init__(self, kind: ImageErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class InputImage:
    """An image to edit (or a mask), as bytes with a file name and MIME type."""

    filename: str
    data: bytes
    content_type: str

    def upload(self) -> tuple[str, bytes, str]:
        """The ``(filename, bytes, mime)`` tuple the OpenAI client uploads."""
        return (self.filename, self.data, self.content_type)


@dataclass(frozen=True, slots=True)
class ImageBatch:
    """Images made by one request.

    Attributes:
        artifacts: The images, ready to attach.
        revised_prompt: The prompt the image model actually used, when it says.
        model: The model that made them.
    """

    artifacts: list[Artifact]
    revised_prompt: str | None
    model: str


async def generate(
    client: openai.AsyncOpenAI,
    settings: Mapping[str, Any] | ImagesSettings,
    prompt: str,
    *,
    size: str | None = None,
    quality: str | None = None,
    n: int = 1,
    stem: str = "image",
) -> list[Artifact]:
    """Generate images from ``prompt`` (what ``/imagine`` calls).

    Args:
        client: The bot's OpenAI client (used with ``max_retries=0``).
        settings: The ``[tools.config.images]`` mapping (or parsed settings).
        prompt: What to draw.
        size: One of ``auto``, ``1024x1024``, ``1536x1024``, ``1024x1536``; None = default.
        quality: One of ``auto``, ``low``, ``medium``, ``high``; None = default.
        n: How many images (lowered to the configured ``max_n``).
        stem: File name stem of the artifacts.

    Raises:
        ImageError: With a user-safe message when no image was made.
        ValueError: If ``size``, ``quality`` or ``prompt`` is invalid (a caller bug).
    """
    batch = await generate_batch(
        client, settings, prompt, size=size, quality=quality, n=n, stem=stem
    )
    return batch.artifacts


async def generate_batch(
    client: openai.AsyncOpenAI,
    settings: Mapping[str, Any] | ImagesSettings,
    prompt: str,
    *,
    size: str | None = None,
    quality: str | None = None,
    n: int = 1,
    stem: str = "image",
) -> ImageBatch:
    """Like :func:`generate`, also returning the revised prompt."""
    config = _settings(settings)
    request = _common(config, prompt, size, quality, n)
    request["moderation"] = config.moderation
    once = client.with_options(max_retries=0, timeout=config.timeout_s)
    try:
        response = await once.images.generate(**request)
    except openai.OpenAIError as error:
        raise _image_error(error, "generate") from None
    return _batch(response, config, prompt, stem)


async def edit(
    client: openai.AsyncOpenAI,
    settings: Mapping[str, Any] | ImagesSettings,
    prompt: str,
    images: Sequence[InputImage],
    *,
    mask: InputImage | None = None,
    size: str | None = None,
    quality: str | None = None,
    n: int = 1,
    stem: str = "edited",
) -> ImageBatch:
    """Edit (or combine) ``images`` following ``prompt``; ``mask`` marks where to paint.

    Raises:
        ImageError: With a user-safe message when no image was made.
        ValueError: If there is no input image, or a size/quality/prompt is invalid.
    """
    if not images:
        raise ValueError("edit() needs at least one input image")
    config = _settings(settings)
    request = _common(config, prompt, size, quality, n)
    uploads = [image.upload() for image in images]
    request["image"] = uploads[0] if len(uploads) == 1 else uploads
    if mask is not None:
        request["mask"] = mask.upload()
    once = client.with_options(max_retries=0, timeout=config.timeout_s)
    try:
        response = await once.images.edit(**request)
    except openai.OpenAIError as error:
        raise _image_error(error, "edit") from None
    return _batch(response, config, prompt, stem)


def _settings(settings: Mapping[str, Any] | ImagesSettings) -> ImagesSettings:
    if isinstance(settings, ImagesSettings):
        return settings
    try:
        return load_settings(settings)
    except ToolFailed as error:
        raise ImageError("misconfigured", error.message) from None


def _common(
    config: ImagesSettings, prompt: str, size: str | None, quality: str | None, n: int
) -> dict[str, Any]:
    text = " ".join(prompt.split())
    if not text:
        raise ValueError("the image prompt is blank")
    chosen_size = size or config.default_size
    chosen_quality = quality or config.default_quality
    if chosen_size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {chosen_size!r}")
    if chosen_quality not in QUALITIES:
        raise ValueError(f"quality must be one of {', '.join(QUALITIES)}, not {chosen_quality!r}")
    if n < 1:
        raise ValueError("n must be at least 1")
    return {
        "model": config.model,
        "prompt": text[: config.max_prompt_chars],
        "n": min(n, config.max_n),
        "size": chosen_size,
        "quality": chosen_quality,
        "output_format": config.output_format,
    }


def _batch(response: ImagesResponse, config: ImagesSettings, prompt: str, stem: str) -> ImageBatch:
    entries = list(response.data or [])
    images = [_decode(entry.b64_json) for entry in entries]
    found = [image for image in images if image is not None]
    if not found:
        log.warning("the image API sent no usable base64 image (%d entries)", len(entries))
        raise ImageError(
            "unavailable",
            "The image service answered without an image. Tell the user to try again later.",
        )
    alt = " ".join(prompt.split())[:ALT_TEXT_CHARS]
    artifacts = [
        Artifact(_filename(stem, index, len(found), kind), data, kind, alt)
        for index, (data, kind) in enumerate(found)
    ]
    revised = next((e.revised_prompt for e in entries if e.revised_prompt), None)
    return ImageBatch(artifacts, revised, config.model)


def _decode(encoded: str | None) -> tuple[bytes, str] | None:
    if not encoded:
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    kind = content_type_of(data)
    if kind is None or image_kind(data) == "gif":
        return None
    return data, kind


def _filename(stem: str, index: int, count: int, content_type: str) -> str:
    extension = _EXTENSIONS.get(content_type, "png")
    return f"{stem}.{extension}" if count == 1 else f"{stem}-{index + 1}.{extension}"


def _image_error(error: openai.OpenAIError, action: str) -> ImageError:
    code = _code(error)
    if isinstance(error, openai.BadRequestError) and code in POLICY_CODES:
        log.info("image %s refused by the content policy", action)
        return ImageError(
            "content_policy",
            "The image service declined this request under its content policy, so no image "
            "was made. Tell the user politely and suggest describing the image differently.",
        )
    if isinstance(error, openai.APITimeoutError):
        log.warning("image %s timed out", action)
        return ImageError(
            "timeout",
            "The image service did not answer in time. The image may or may not have been made; "
            "do not try again automatically. Tell the user to ask again in a while.",
        )
    if isinstance(error, openai.APIConnectionError):
        log.warning("image %s: the image service could not be reached", action)
        return ImageError(
            "unavailable", "The image service could not be reached. Tell the user to try later."
        )
    if isinstance(error, openai.RateLimitError) and code != "insufficient_quota":
        return ImageError(
            "rate_limited",
            "The image service is busy right now. Tell the user to try again in a minute.",
        )
    return _status_error(error, action, code)


def _status_error(error: openai.OpenAIError, action: str, code: str | None) -> ImageError:
    status, request_id = (
        (error.status_code, error.request_id)
        if isinstance(error, openai.APIStatusError)
        else (None, None)
    )
    log.warning("image %s failed: HTTP %s code %s request %s", action, status, code, request_id)
    if isinstance(error, openai.BadRequestError | openai.UnprocessableEntityError):
        detail = f" ({code})" if code else ""
        return ImageError(
            "bad_request",
            f"The image service did not accept this request{detail}. Tell the user it could not "
            "be made as asked.",
        )
    if status in (401, 403, 404) or code == "insufficient_quota":
        return ImageError(
            "misconfigured",
            "Image generation is not available (the bot owner must check the OpenAI account "
            "and image model). Tell the user images are unavailable right now.",
        )
    return ImageError(
        "unavailable",
        "The image service had a problem. Tell the user to try again later.",
    )


def _code(error: openai.OpenAIError) -> str | None:
    if not isinstance(error, openai.APIError):
        return None
    code = error.code
    if isinstance(code, str):
        return code
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("code"), str):
            return str(inner["code"])
    return None
