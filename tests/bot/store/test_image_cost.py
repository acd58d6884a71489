"""Image token costs by OpenAI's published formulas (the examples of its vision guide)."""

from __future__ import annotations

import pytest

from bot.store.image_cost import _patches, image_tokens


@pytest.mark.parametrize(
    ("width", "height", "model", "detail", "tokens"),
    [
        (1024, 1024, "gpt-4o", None, 765),  # 768x768: 4 tiles -> 85 + 4 x 170
        (2048, 4096, "gpt-4o", "high", 1105),  # 768x1536: 6 tiles -> 85 + 6 x 170
        (4096, 8192, "gpt-4o", "low", 85),
        (512, 512, "gpt-4.1", None, 255),  # one tile
        (1024, 1024, "gpt-5", None, 70 + 4 * 140),
        (1024, 1024, "gpt-5.4", None, 70 + 4 * 140),
        (1024, 1024, "o3", None, 75 + 4 * 150),
        (1024, 1024, "gpt-4o-mini", None, 2833 + 4 * 5667),
        (1024, 1024, "some-local-model", None, 765),  # unknown: priced as GPT-4o
        (1024, 1024, "gpt-4.1-mini", None, 1659),  # 1024 patches x 1.62, rounded up
        (1024, 1024, "gpt-5.4-mini", None, 1659),
        (1024, 1024, "gpt-5-nano", None, 2520),  # 1024 x 2.46 (rounded up)
        (1024, 1024, "o4-mini", None, 1762),  # 1024 x 1.72 (rounded up)
    ],
)
def test_image_tokens_follow_the_model_family(
    width: int, height: int, model: str, detail: str | None, tokens: int
) -> None:
    assert image_tokens(width, height, model, detail) == tokens


def test_patches_are_capped_the_way_openai_scales_them() -> None:
    assert _patches(1024, 1024) == 1024
    assert _patches(1800, 2400) == 1452  # OpenAI's worked example: 33 x 44 patches
    assert _patches(10_000, 10_000) <= 1536
