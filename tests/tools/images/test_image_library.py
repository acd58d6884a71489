"""How edit_image names the conversation's images: "last", "#N" or an id (issue 21)."""

from __future__ import annotations

import pytest

from tools.images.library import ConversationImage, UnknownImage, pick

IMAGES = [
    ConversationImage(1, "aaaa1111" + "0" * 56, "posted by bob"),
    ConversationImage(2, "bbbb2222" + "0" * 56, "generate_image made image.png: a fox"),
    ConversationImage(3, "aaaa1199" + "0" * 56, "edit_image made edited.png: blue"),
]


@pytest.mark.parametrize(
    ("reference", "position"),
    [
        ("last", 3),
        ("LAST", 3),
        ("#1", 1),
        ("2", 2),
        ("image #2", 2),
        ("bbbb2222", 2),
        ("aaaa1199", 3),
    ],
)
def test_a_reference_picks_its_image(reference: str, position: int) -> None:
    assert pick(IMAGES, reference).position == position


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("#7", "there is no image #7 (there are 3)"),
        ("aaaa", "no single image has the id 'aaaa'"),
        ("cccc3333", "no single image has the id 'cccc3333'"),
    ],
)
def test_a_reference_that_names_nothing_says_why(reference: str, reason: str) -> None:
    with pytest.raises(UnknownImage) as caught:
        pick(IMAGES, reference)
    assert str(caught.value) == reason


def test_no_images_yet() -> None:
    with pytest.raises(UnknownImage, match="this conversation has no images yet"):
        pick([], "last")
