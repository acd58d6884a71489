"""Built-in image tools: ``generate_image`` and ``edit_image`` (the ``images`` tool family).

The images are attached to the bot's reply (``ctx.attach``); the tool result is a short text and
the bot shows the images to a model that sees images in its next round (``ToolOutcome.
images_for_model``). Both tools have ``side_effects=True``: the dispatcher's ledger makes sure a
call never runs twice for the same turn and arguments, and the request runs without SDK retries.

What the bot provides (``ctx.deps``, see :class:`~tools.deps.ToolDeps`): ``openai`` (an
``openai.AsyncOpenAI``, required), ``input_files`` (the user's attachments),
``conversation_images`` (a :class:`~tools.images.library.ImageLibrary`: the images earlier
messages posted or tools made, which ``edit_image`` takes by ``"last"``, number or id) and
optionally ``quotas`` (a :class:`~tools.deps.ImageQuota`: ``charge_images`` returns None to go
ahead or a refusal with a ``message`` to stop; ``refund_images`` gives images back). The quota is
charged before the request and given back when the request surely made nothing (not for
content-policy refusals or rejected requests, which the model could otherwise repeat for free).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Coroutine
from typing import Annotated, Any

import openai
from pydantic import Field

from tools.context import Artifact, ToolContext
from tools.definition import tool
from tools.errors import ToolFailed, ToolRetry
from tools.images.files import content_type_of, png_header
from tools.images.library import ImageLibrary, UnknownImage, pick
from tools.images.service import ImageBatch, ImageError, InputImage, edit, generate_batch
from tools.images.settings import ImagesSettings, Quality, Size, load_settings

EDITABLE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})
MAX_EDIT_INPUTS = 4
NOT_REFUNDED = frozenset({"content_policy", "bad_request"})
_STEM_CHARS = re.compile(r"[^A-Za-z0-9]")


@tool(family="images", side_effects=True, timeout=150.0, progress="Drawing: {prompt}", files="n")
async def generate_image(
    ctx: ToolContext,
    prompt: Annotated[str, Field(min_length=1, max_length=4000)],
    size: Size | None = None,
    quality: Quality | None = None,
    n: Annotated[int, Field(ge=1, le=4)] = 1,
) -> str:
    """Create an image from a text description; it is attached to your reply automatically.

    Call it only when the user asks for a picture. Describe the subject, style and setting in
    the prompt. Do not add links or markdown images for the result: the file is attached.

    Args:
        prompt: A detailed description of the image to create, in the user's words plus detail.
        size: 1024x1024 (square), 1536x1024 (landscape), 1024x1536 (portrait), auto; null for
            the default.
        quality: low, medium, high or auto; null for the default. Higher is slower.
        n: How many images to make, 1 to 4 (the server may allow fewer).
    """
    settings = load_settings(ctx.config)
    client = _client(ctx)
    count = await _charge(ctx, n, settings)
    try:
        batch = await _refund_on_failure(
            ctx,
            count,
            generate_batch(
                client,
                settings,
                prompt,
                size=size,
                quality=quality,
                n=count,
                stem=_stem(ctx, "image"),
            ),
        )
    except ImageError as error:
        raise ToolFailed(error.message) from None
    except ValueError as error:
        raise ToolRetry(str(error)) from None
    return _attach(ctx, batch, n, count, "Made")


@tool(
    family="images",
    side_effects=True,
    timeout=150.0,
    progress="Editing the image: {prompt}",
    files="n",
)
async def edit_image(
    ctx: ToolContext,
    prompt: Annotated[str, Field(min_length=1, max_length=4000)],
    use_mask: bool = False,
    size: Size | None = None,
    quality: Quality | None = None,
    n: Annotated[int, Field(ge=1, le=4)] = 1,
    images: Annotated[list[str], Field(max_length=4)] | None = None,
) -> str:
    """Edit or combine images of the conversation, following a prompt.

    The result is attached to your reply automatically. By default it edits the images attached
    to the user's current message, or else the last image of the conversation (one you made
    counts). To pick others, name them in ``images``; nobody needs to upload them again.

    Args:
        prompt: What to change, e.g. "make the sky a sunset" or "put both pets on one sofa".
        use_mask: true when the user attached a second image that is a transparent PNG mask
            marking the area to repaint; false to use every attached image as input.
        images: Which images to edit, from the conversation's image list: "last", a number
            like "#2", or an id; several are combined. null for the current attachments (or
            else the last image).
        size: 1024x1024, 1536x1024, 1024x1536 or auto; null for the default.
        quality: low, medium, high or auto; null for the default.
        n: How many versions to make, 1 to 4 (the server may allow fewer).
    """
    settings = load_settings(ctx.config)
    client = _client(ctx)
    inputs, mask = await _edit_inputs(ctx, use_mask, images or [])
    count = await _charge(ctx, n, settings)
    try:
        batch = await _refund_on_failure(
            ctx,
            count,
            edit(
                client,
                settings,
                prompt,
                inputs,
                mask=mask,
                size=size,
                quality=quality,
                n=count,
                stem=_stem(ctx, "edited"),
            ),
        )
    except ImageError as error:
        raise ToolFailed(error.message) from None
    except ValueError as error:
        raise ToolRetry(str(error)) from None
    return _attach(ctx, batch, n, count, "Edited the image into")


def _client(ctx: ToolContext) -> openai.AsyncOpenAI:
    client = ctx.deps.openai
    if not isinstance(client, openai.AsyncOpenAI):
        raise ToolFailed(
            "Image generation is not set up: the bot has no OpenAI client for tools (the bot "
            "owner must inject the 'openai' service). Tell the user images are unavailable."
        )
    return client


async def _charge(ctx: ToolContext, requested: int, settings: ImagesSettings) -> int:
    count = min(requested, settings.max_n)
    quotas = ctx.deps.quotas
    if quotas is None:
        return count
    refusal = await quotas.charge_images(ctx.user_id, ctx.guild_id, count, is_owner=ctx.is_owner)
    if refusal is not None:
        message = refusal.message
        raise ToolFailed(
            f"No image was made: the user's image quota does not allow it. {message}".strip()
            + " Tell the user; do not call the image tools again in this answer."
        )
    return count


async def _refund_on_failure(
    ctx: ToolContext, count: int, request: Coroutine[Any, Any, ImageBatch]
) -> ImageBatch:
    """Await the image request; give the quota back when it surely made nothing."""
    try:
        return await request
    except ImageError as error:
        if error.kind not in NOT_REFUNDED:
            await _refund(ctx, count)
        raise
    except ValueError:
        await _refund(ctx, count)
        raise


async def _refund(ctx: ToolContext, count: int) -> None:
    quotas = ctx.deps.quotas
    if quotas is not None:
        await quotas.refund_images(ctx.user_id, ctx.guild_id, count)


async def _edit_inputs(
    ctx: ToolContext, use_mask: bool, references: list[str]
) -> tuple[list[InputImage], InputImage | None]:
    if references:
        usable = await _from_library(ctx, references)
    else:
        attached = [_as_input(file) for file in ctx.deps.input_files]
        usable = [image for image in attached if image is not None]
        if not usable and _library(ctx) is not None:
            with contextlib.suppress(_NoImages):
                usable = await _from_library(ctx, ["last"])
    if not usable:
        raise ToolFailed(
            "There is no PNG, JPEG or WEBP image to edit: none is attached to the user's message "
            "and the conversation has none. Ask the user to attach the image to edit."
        )
    if not use_mask:
        return usable[:MAX_EDIT_INPUTS], None
    if len(usable) < 2:
        raise ToolRetry(
            "use_mask is true but only one image is attached; call again with use_mask false, "
            "or ask the user to attach the mask as a second image."
        )
    _check_mask(usable[0], usable[1])
    return [usable[0]], usable[1]


def _library(ctx: ToolContext) -> ImageLibrary | None:
    library = ctx.deps.conversation_images
    return library if isinstance(library, ImageLibrary) else None


class _NoImages(ToolFailed):
    """The conversation has no images (the default edit then says what is missing)."""


async def _from_library(ctx: ToolContext, references: list[str]) -> list[InputImage]:
    """The images ``references`` name, with their best bytes (a tool's original where kept)."""
    library = _library(ctx)
    if library is None:
        raise ToolFailed(
            "Earlier images cannot be edited here (the bot keeps no conversation images); ask "
            "the user to attach the image to edit."
        )
    listed = await library.images()
    if not listed:
        raise _NoImages("This conversation has no images yet; ask the user to attach one.")
    chosen: list[InputImage] = []
    for reference in dict.fromkeys(references):
        try:
            image = pick(listed, reference)
        except UnknownImage as error:
            raise ToolRetry(
                f'{error}. Name an image as "last", a number like "#{len(listed)}" or an '
                "id from the conversation's image list."
            ) from None
        data = await library.load(image.image_id)
        kind = content_type_of(data or b"")
        if data is None or kind not in EDITABLE_TYPES:
            raise ToolFailed(f"Image #{image.position} can no longer be edited (not stored).")
        extension = kind.split("/")[1]
        chosen.append(InputImage(f"image-{image.position}.{extension}", data, kind))
    return chosen[:MAX_EDIT_INPUTS]


def _as_input(file: Any) -> InputImage | None:
    if not isinstance(file, Artifact):
        return None
    kind = content_type_of(file.data)
    if kind not in EDITABLE_TYPES:
        return None
    return InputImage(file.filename or "image", file.data, kind)


def _check_mask(image: InputImage, mask: InputImage) -> None:
    header = png_header(mask.data)
    if header is None or not header.has_alpha:
        raise ToolFailed(
            "The second attachment cannot be a mask: a mask must be a PNG with transparency "
            "where the image should change. Tell the user how to make one, or edit without it."
        )
    base = png_header(image.data)
    if base is not None and (base.width, base.height) != (header.width, header.height):
        raise ToolFailed(
            f"The mask ({header.width}x{header.height}) and the image ({base.width}x"
            f"{base.height}) differ in size; tell the user the mask must match the image."
        )


def _stem(ctx: ToolContext, prefix: str) -> str:
    suffix = _STEM_CHARS.sub("", ctx.call_id)[-6:]
    return f"{prefix}-{suffix}" if suffix else prefix


def _attach(ctx: ToolContext, batch: ImageBatch, requested: int, count: int, verb: str) -> str:
    for artifact in batch.artifacts:
        ctx.attach(artifact.filename, artifact.data, artifact.content_type, artifact.description)
    made = len(batch.artifacts)
    noun = "image" if made == 1 else "images"
    lines = [
        f"{verb} {made} {noun} ({batch.model}); attached to your reply. Do not add links or "
        "markdown images for it; just say briefly what was made."
    ]
    if count < requested:
        lines.append(f"Only {count} could be made per request here (asked for {requested}).")
    if batch.revised_prompt:
        lines.append(f"The image model revised the prompt to: {batch.revised_prompt[:500]}")
    return "\n".join(lines)
