"""bot.store.images: references, the per-request byte budget, and how images are counted."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image

from bot.images import data_url, data_url_length
from bot.store.images import (
    LEFT_OUT,
    MAX_IMAGES_PER_REQUEST,
    NO_LONGER_STORED,
    NOT_RESENT,
    image_id,
    ref_part,
    resolve_images,
    split_images,
)
from bot.store.models import StoredImage
from bot.store.tokens import DEFAULT_IMAGE_TOKENS, TokenCounter


def png(width: int, height: int, shade: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 0, 0)).save(buffer, "PNG")
    return buffer.getvalue()


def stored(data: bytes) -> StoredImage:
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    return StoredImage(image_id(data), "image/png", width, height, len(data), data)


def user(*parts: dict[str, object]) -> dict[str, object]:
    return {"role": "user", "content": [{"type": "text", "text": "look"}, *parts]}


class Shelf:
    """A fake store's images: records which ids a window fetched."""

    def __init__(self, *images: StoredImage) -> None:
        self.images = {image.image_id: image for image in images}
        self.asked: list[list[str]] = []

    async def fetch(self, ids: Sequence[str]) -> dict[str, StoredImage]:
        self.asked.append(list(ids))
        return {i: self.images[i] for i in ids if i in self.images}


def test_split_images_keeps_each_image_once_and_other_parts_as_they_are() -> None:
    data = png(40, 30)
    url_part = {"type": "image_url", "image_url": {"url": data_url("image/png", data)}}
    low = {"type": "image_url", "image_url": {"url": data_url("image/png", data), "detail": "low"}}
    linked = {"type": "image_url", "image_url": {"url": "https://cdn.example/x.png"}}
    text = {"type": "text", "text": "hi"}
    parts, images = split_images([url_part, text, low, linked])
    image = stored(data)
    assert images == [image]
    assert parts == [ref_part(image), text, {**ref_part(image), "detail": "low"}, linked]
    assert ref_part(image) == {
        "type": "image_ref",
        "image_id": image.image_id,
        "mime": "image/png",
        "width": 40,
        "height": 30,
        "size": len(data),
    }


async def test_the_newest_images_are_sent_within_the_budget_and_the_rest_noted() -> None:
    old, mid, new = stored(png(20, 20, 1)), stored(png(20, 20, 2)), stored(png(20, 20, 3))
    shelf = Shelf(old, mid, new)
    messages = [
        {"role": "system", "content": "sys"},
        user(ref_part(old)),
        {"role": "assistant", "content": "ok"},
        user(ref_part(mid), ref_part(new)),
    ]
    two = data_url_length("image/png", mid.size) + data_url_length("image/png", new.size)
    resolved = await resolve_images(messages, two, shelf.fetch)
    assert resolved[1]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "text", "text": NOT_RESENT},
    ]
    assert resolved[3]["content"][1:] == [
        {"type": "image_url", "image_url": {"url": data_url("image/png", mid.data)}},
        {"type": "image_url", "image_url": {"url": data_url("image/png", new.data)}},
    ]
    assert shelf.asked == [[mid.image_id, new.image_id]], "only the images sent are read"
    assert resolved[0] is messages[0] and resolved[2] is messages[2]
    assert messages[3]["content"][1] == ref_part(mid), "the input is not changed"


async def test_an_image_over_the_budget_in_the_current_message_is_left_out_with_a_note() -> None:
    image = stored(png(20, 20))
    resolved = await resolve_images([user(ref_part(image))], 100, Shelf(image).fetch)
    assert resolved[0]["content"][1] == {"type": "text", "text": LEFT_OUT}


async def test_a_missing_image_and_a_legacy_data_url_both_resolve() -> None:
    legacy = {"type": "image_url", "image_url": {"url": data_url("image/png", png(5, 5))}}
    gone = ref_part(stored(png(6, 6)))
    resolved = await resolve_images([user(legacy, gone)], 10**9, Shelf().fetch)
    assert resolved[0]["content"][1:] == [legacy, {"type": "text", "text": NO_LONGER_STORED}]


def test_images_are_counted_by_their_size_not_a_flat_765() -> None:
    counter = TokenCounter("gpt-4o")
    big, small = stored(png(2000, 1000)), stored(png(100, 100))

    def cost(part: dict[str, object]) -> int:
        return counter.count_message({"role": "user", "content": [part]}) - counter.count_message(
            {"role": "user", "content": []}
        )

    assert cost(ref_part(big)) == 85 + 170 * 6  # 1536x768: 3 x 2 tiles
    assert cost(ref_part(small)) == 85 + 170
    assert cost({**ref_part(big), "detail": "low"}) == 85
    inline = {"type": "image_url", "image_url": {"url": data_url("image/png", big.data)}}
    assert cost(inline) == 85 + 170 * 6, "a data URL is measured from its header"
    linked = {"type": "image_url", "image_url": {"url": "https://cdn.example/x.png"}}
    assert cost(linked) == DEFAULT_IMAGE_TOKENS, "a linked image's size is unknown"
    assert (
        counter.count_message({"role": "user", "content": [ref_part(big)]}, "gpt-4o-mini")
        - counter.count_message({"role": "user", "content": []}, "gpt-4o-mini")
        == 2833 + 5667 * 6
    )


def test_a_jpeg_whose_exif_comes_before_its_size_is_still_measured() -> None:
    exif = Image.Exif()
    exif[0x010F] = "x" * 60_000  # a 60 KB EXIF block ahead of the frame header
    buffer = io.BytesIO()
    Image.new("RGB", (3000, 2000)).save(buffer, "JPEG", exif=exif.tobytes())
    part = {"type": "image_url", "image_url": {"url": data_url("image/jpeg", buffer.getvalue())}}
    counter = TokenCounter("gpt-4o")
    empty = counter.count_message({"role": "user", "content": []})
    assert counter.count_message({"role": "user", "content": [part]}) - empty == 85 + 170 * 6


async def test_at_most_500_images_go_in_one_request_the_newest() -> None:
    image = stored(png(1, 1))
    messages = [user(ref_part(image)) for _ in range(MAX_IMAGES_PER_REQUEST + 2)]
    resolved = await resolve_images(messages, 10**9, Shelf(image).fetch)
    kinds = [message["content"][1]["type"] for message in resolved]
    assert kinds == ["text", "text"] + ["image_url"] * MAX_IMAGES_PER_REQUEST
    assert resolved[0]["content"][1]["text"] == NOT_RESENT
