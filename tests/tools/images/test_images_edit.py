"""edit_image: the attached image (and optional mask) go to the edits endpoint as multipart."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.testing.openai import Fault, OpenAIEmulator
from bot.testing.openai.media.png import solid_png
from tools import ToolContext, ToolFailed, ToolRetry
from tools.images import edit_image
from tools.images.library import ConversationImage

from .conftest import attachment, rgba_png

EDITS = "/v1/images/edits"
ImageContextFactory = Callable[..., ToolContext]


async def test_the_attached_image_is_edited_and_the_result_attached(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    photo = solid_png(16, 16, (200, 10, 10))
    ctx = image_ctx(services={"input_files": [attachment(photo, "cat.png")]})

    result = await edit_image(
        ctx, prompt="give the cat a hat", use_mask=False, size=None, quality="high", n=1
    )

    (recorded,) = openai_emulator.requests
    assert recorded.path == EDITS
    (upload,) = recorded.files
    assert (upload.field, upload.filename, upload.content_type) == ("image", "cat.png", "image/png")
    assert upload.data == photo
    body = openai_emulator.image_edits.requests[0]
    assert (body["model"], body["prompt"], body["quality"]) == (
        "gpt-image-2",
        "give the cat a hat",
        "high",
    )
    assert "moderation" not in body
    (artifact,) = ctx.artifacts
    assert artifact.filename == "edited-123XYZ.png" and artifact.data.startswith(b"\x89PNG")
    assert result.startswith("Edited the image into 1 image")


async def test_a_second_attachment_is_the_mask_when_asked(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    photo, mask = rgba_png(8, 8, alpha=255), rgba_png(8, 8, alpha=0)
    files = [attachment(photo, "room.png"), attachment(mask, "mask.png")]
    ctx = image_ctx(services={"input_files": files})

    await edit_image(ctx, prompt="add a plant", use_mask=True, size=None, quality=None, n=1)

    uploads = {f.field: f for f in openai_emulator.requests[0].files}
    assert set(uploads) == {"image", "mask"}
    assert uploads["mask"].data == mask


async def test_several_images_are_combined_without_a_mask(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64)
    files = [attachment(solid_png(4, 4), "a.png"), attachment(jpeg, "b.jpg", "image/jpeg")]
    ctx = image_ctx(services={"input_files": files})

    await edit_image(ctx, prompt="both on a sofa", use_mask=False, size=None, quality=None, n=1)

    uploads = openai_emulator.requests[0].files
    assert [(u.field, u.content_type) for u in uploads] == [
        ("image[]", "image/png"),
        ("image[]", "image/jpeg"),
    ]


async def test_no_attached_image_means_nothing_to_edit(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    text_file = attachment(b"hello", "notes.txt", "text/plain")
    ctx = image_ctx(services={"input_files": [text_file]})

    with pytest.raises(ToolFailed, match="Ask the user to attach"):
        await edit_image(ctx, prompt="x", use_mask=False, size=None, quality=None, n=1)

    assert openai_emulator.requests == []


async def test_a_mask_needs_a_second_image(image_ctx: ImageContextFactory) -> None:
    ctx = image_ctx(services={"input_files": [attachment(solid_png(4, 4))]})

    with pytest.raises(ToolRetry, match="only one image"):
        await edit_image(ctx, prompt="x", use_mask=True, size=None, quality=None, n=1)


@pytest.mark.parametrize(
    ("mask", "expected"),
    [(solid_png(8, 8), "PNG with transparency"), (rgba_png(4, 4), "differ in size")],
)
async def test_a_bad_mask_is_explained_and_not_sent(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory, mask: bytes, expected: str
) -> None:
    files = [attachment(rgba_png(8, 8, alpha=255)), attachment(mask, "mask.png")]
    ctx = image_ctx(services={"input_files": files})

    with pytest.raises(ToolFailed, match=expected):
        await edit_image(ctx, prompt="x", use_mask=True, size=None, quality=None, n=1)

    assert openai_emulator.requests == []


async def test_a_refused_edit_is_polite_and_tried_once(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    openai_emulator.image_edits.reply_fault(Fault.content_policy_violation())
    ctx = image_ctx(services={"input_files": [attachment(solid_png(4, 4))]})

    with pytest.raises(ToolFailed, match="content policy"):
        await edit_image(ctx, prompt="x", use_mask=False, size=None, quality=None, n=1)

    assert openai_emulator.attempts(EDITS) == 1


class _Library:
    """A conversation's images for edit_image (the bot's StoreImageLibrary in tests)."""

    def __init__(self, *images: bytes) -> None:
        self._images = {f"{index:08d}" + "f" * 56: data for index, data in enumerate(images, 1)}

    async def images(self) -> list[ConversationImage]:
        return [
            ConversationImage(position, image_id, f"image {position}")
            for position, image_id in enumerate(self._images, start=1)
        ]

    async def load(self, image_id: str) -> bytes | None:
        return self._images.get(image_id)


async def test_without_attachments_the_last_image_of_the_conversation_is_edited(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    older, newest = solid_png(8, 8, (1, 2, 3)), solid_png(8, 8, (9, 9, 9))
    ctx = image_ctx(services={"input_files": [], "conversation_images": _Library(older, newest)})

    await edit_image(ctx, prompt="brighter", use_mask=False, size=None, quality=None, n=1)

    (upload,) = openai_emulator.requests[0].files
    assert (upload.filename, upload.data) == ("image-2.png", newest)


async def test_several_earlier_images_are_combined_by_number(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    first, second = solid_png(8, 8, (1, 2, 3)), solid_png(8, 8, (9, 9, 9))
    ctx = image_ctx(services={"conversation_images": _Library(first, second)})

    await edit_image(
        ctx, prompt="merge", use_mask=False, size=None, quality=None, n=1, images=["#2", "#1"]
    )

    assert [u.data for u in openai_emulator.requests[0].files] == [second, first]


async def test_an_image_number_that_does_not_exist_asks_the_model_again(
    openai_emulator: OpenAIEmulator, image_ctx: ImageContextFactory
) -> None:
    ctx = image_ctx(services={"conversation_images": _Library(solid_png(8, 8))})

    with pytest.raises(ToolRetry) as caught:
        await edit_image(
            ctx, prompt="x", use_mask=False, size=None, quality=None, n=1, images=["#4"]
        )

    assert str(caught.value) == (
        'there is no image #4 (there are 1). Name an image as "last", a number like "#1" or an '
        "id from the conversation's image list."
    )
    assert openai_emulator.requests == []
