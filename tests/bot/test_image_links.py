"""Which links in a message are image links (issue 21): image files by path, embeds, once each."""

from __future__ import annotations

from bot.image_links import image_urls


def test_links_to_image_files_count_and_pages_do_not() -> None:
    text = (
        "look at https://x.test/a/cat.PNG, and <https://x.test/dog.jpeg>! also "
        "https://x.test/page.html and https://x.test/pic.webp?size=large and "
        "(https://x.test/in-parens.gif)"
    )
    assert image_urls(text, [], 10) == [
        "https://x.test/a/cat.PNG",
        "https://x.test/dog.jpeg",
        "https://x.test/pic.webp?size=large",
        "https://x.test/in-parens.gif",
    ]


def test_embed_images_follow_once_each_within_the_limit() -> None:
    text = "https://x.test/1.png https://x.test/1.png"
    embedded = ["https://x.test/1.png", "https://cdn.test/e.jpg", "https://cdn.test/f.jpg"]
    assert image_urls(text, embedded, 2) == ["https://x.test/1.png", "https://cdn.test/e.jpg"]
