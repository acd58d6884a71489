"""bot.images: magic bytes, the size high detail uses, re-encoding (issue 16, finding 4)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.images import (
    MAX_JPEG_PIXELS,
    MAX_PIXELS,
    ImageRejected,
    data_url,
    data_url_length,
    decode_data_url,
    fitted_size,
    prepare,
    probe,
    sniff_mime,
)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def photo(width: int, height: int) -> Image.Image:
    return Image.linear_gradient("L").resize((width, height)).convert("RGB")


@pytest.mark.parametrize(
    ("size", "fitted"),
    [
        ((4000, 3000), (1024, 768)),  # short side to 768
        ((1024, 1024), (768, 768)),  # OpenAI's own example
        ((2048, 4096), (768, 1536)),  # within 2048 first: 1024x2048, then short side 768
        ((8000, 1000), (2048, 256)),  # a long strip: only the 2048 bound applies
        ((500, 300), (500, 300)),  # small images are never enlarged
    ],
)
def test_fitted_size_is_what_high_detail_keeps(
    size: tuple[int, int], fitted: tuple[int, int]
) -> None:
    assert fitted_size(*size) == fitted


def test_magic_bytes_decide_the_type_not_the_name() -> None:
    image = photo(8, 8)
    assert sniff_mime(encoded(image, "PNG")) == "image/png"
    assert sniff_mime(encoded(image, "JPEG")) == "image/jpeg"
    assert sniff_mime(encoded(image, "GIF")) == "image/gif"
    assert sniff_mime(encoded(image, "WEBP")) == "image/webp"
    assert sniff_mime(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff_mime(b"%PDF-1.7") is None


def test_a_large_photo_is_downscaled_to_jpeg_without_its_metadata() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    original = encoded(photo(4000, 3000), "JPEG", quality=95, exif=exif.tobytes())
    prepared = prepare(original)
    assert (prepared.mime, prepared.width, prepared.height) == ("image/jpeg", 1024, 768)
    assert len(prepared.data) < len(original) / 5
    with Image.open(io.BytesIO(prepared.data)) as reopened:
        assert reopened.size == (1024, 768)
        assert dict(reopened.getexif()) == {}
    assert b"SecretCam" not in prepared.data


def test_exif_orientation_is_applied_and_the_sides_stay_fitted() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: a 4000x3000 sensor image shown as 3000x4000
    prepared = prepare(encoded(photo(4000, 3000), "JPEG", exif=exif.tobytes()))
    assert (prepared.width, prepared.height) == (768, 1024)


def test_transparency_is_kept_as_webp() -> None:
    image = Image.new("RGBA", (3000, 1000), (255, 0, 0, 128))
    prepared = prepare(encoded(image, "PNG"))
    assert (prepared.mime, prepared.width, prepared.height) == ("image/webp", 2048, 683)
    with Image.open(io.BytesIO(prepared.data)) as reopened:
        assert reopened.mode == "RGBA"


def test_a_gif_becomes_its_first_frame_as_jpeg() -> None:
    frames = [Image.new("RGB", (40, 30), color) for color in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    prepared = prepare(buffer.getvalue())
    assert (prepared.mime, prepared.width, prepared.height) == ("image/jpeg", 40, 30)
    with Image.open(io.BytesIO(prepared.data)) as reopened:
        red, green, blue = reopened.convert("RGB").getpixel((20, 15))  # type: ignore[misc]
        assert red > 200 and green < 60 and blue < 60


def test_what_is_not_an_image_is_refused_with_the_reason() -> None:
    with pytest.raises(ImageRejected, match=r"^not a PNG, JPEG, GIF or WebP image$"):
        prepare(b"<svg/>")
    with pytest.raises(ImageRejected, match=r"^the image could not be decoded$"):
        prepare(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)


def test_too_many_pixels_are_refused_before_decoding() -> None:
    side = int(MAX_PIXELS**0.5) + 10
    bomb = encoded(Image.new("1", (side, side)), "PNG")
    assert len(bomb) < 100_000, "small on the wire, 24 MP once decoded"
    with pytest.raises(ImageRejected, match=rf"^{side}x{side} pixels is more than 24,000,000 "):
        prepare(bomb)
    side = int(MAX_JPEG_PIXELS**0.5) + 10
    with pytest.raises(ImageRejected, match=rf"^{side}x{side} pixels is more than 50,000,000 "):
        prepare(encoded(Image.new("L", (side, side)), "JPEG"))


def test_probe_reads_the_header_only_and_data_urls_round_trip() -> None:
    png = encoded(photo(300, 200), "PNG")
    assert probe(png) == ("image/png", 300, 200)
    assert probe(png[:64]) == ("image/png", 300, 200), "the header is enough"
    assert probe(b"not an image") is None
    url = data_url("image/png", png)
    assert len(url) == data_url_length("image/png", len(png))
    assert decode_data_url(url) == ("image/png", png)
    assert decode_data_url("https://example.com/a.png") is None
    assert decode_data_url("data:image/png;base64,@@@") is None
