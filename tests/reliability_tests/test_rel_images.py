"""Request bytes with many images (issue 16, finding 4), small enough for the test run."""

from __future__ import annotations

from tests.reliability.images import BUDGET, ImagePlan, images_ok, run_images


async def test_many_images_stay_within_the_request_budget_and_are_stored_once() -> None:
    figures = await run_images(ImagePlan(image_turns=8, text_turns=1))

    assert (figures["images_attached"], figures["distinct_images"]) == (32, 28)
    assert figures["answered"] == figures["turns"] == 9, figures
    assert figures["max_request_image_bytes"] <= BUDGET, figures
    assert figures["images_stored"] == 28, "the repeated photos are stored once"
    assert figures["text_only_images_noted"] > 0, "the oldest images were not re-sent"
    assert figures["text_only_images_sent"] + figures["text_only_images_noted"] == 32
    assert figures["text_only_bytes_before_fix"] > 40_000_000, figures
    assert figures["text_only_request_bytes"] < BUDGET + 200_000, figures
    assert figures["stored_image_bytes"] < figures["attached_bytes"] / 3, figures
    assert images_ok(figures)
