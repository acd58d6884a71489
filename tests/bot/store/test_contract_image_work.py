"""The store contract for images a conversation keeps working on (issue 21), on both backends.

A tool's image is saved with its caption and full-size original before the exchange ends; the
user message that shows it to the model after the tool results is stored by reference, kept with
its tool round in windows, and the original is what ``get_image`` hands an edit.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from bot.store import keys
from bot.store.models import NewTurn, StoredImage, UserTurn
from bot.store.protocol import Store
from bot.store.tokens import TokenCounter

from .helpers import tool_call
from .test_contract_images import image_part, jpeg

BIG = 10**9


def _stored(data: bytes, caption: str, original: bytes | None) -> StoredImage:
    return StoredImage(
        hashlib.sha256(data).hexdigest(), "image/jpeg", 64, 48, len(data), data, caption, original
    )


async def test_a_tool_image_is_kept_with_caption_and_original_and_its_round_in_the_window(
    store: Store,
) -> None:
    dm = await store.get_or_create_conversation(
        keys.dm_key(7), guild_id=None, channel_id=70, thread_id=None, user_id=7
    )
    preview, original = jpeg(64, 48, 30), b"\x89PNG\r\n\x1a\nfull-size original"
    image = _stored(preview, "generate_image made image-1.png: a fox", original)
    exchange = await store.begin_exchange(dm.id, UserTurn(7, "bob", "draw a fox", [], 1))
    assert exchange is not None
    await store.save_image(dm.id, image)
    await store.save_image(dm.id, replace(image, caption="later caption", original=b"other"))
    shown = [{"type": "text", "text": f"[{image.caption}]"}, image_part(preview)]
    await store.complete_exchange(
        exchange.id,
        [
            NewTurn("assistant", None, [tool_call("call_1", "generate_image", prompt="a fox")]),
            NewTurn("tool", "Made 1 image.", tool_call_id="call_1", name="generate_image"),
            NewTurn("user", "", parts=shown),
            NewTurn("assistant", "Here is a fox."),
        ],
    )

    (listed,) = await store.list_images(dm.id)
    assert (listed.image_id, listed.caption, listed.data) == (image.image_id, image.caption, b"")
    fetched = await store.get_image(dm.id, image.image_id)
    assert fetched is not None
    assert (fetched.data, fetched.original, fetched.caption) == (preview, original, image.caption)
    turns = await store.exchange_turns(exchange.id)
    assert turns[3].role == "user" and turns[3].parts[1]["type"] == "image_ref"
    window = await store.build_window(dm.id, BIG, TokenCounter("gpt-4o"), ["sys"], model="gpt-4o")
    roles = [m["role"] for m in window]
    assert roles == ["system", "user", "assistant", "tool", "user", "assistant"]
    assert window[4]["content"] == shown


async def test_a_user_message_among_new_turns_must_follow_tool_results(store: Store) -> None:
    dm = await store.get_or_create_conversation(
        keys.dm_key(8), guild_id=None, channel_id=80, thread_id=None, user_id=8
    )
    exchange = await store.begin_exchange(dm.id, UserTurn(8, "bob", "hi", [], 2))
    assert exchange is not None
    try:
        await store.complete_exchange(exchange.id, [NewTurn("user", "sneaky")])
    except ValueError as error:
        assert str(error) == (
            "turn 0: role must be 'assistant' or 'tool' (or 'user' right after tool results), "
            "not 'user'"
        )
    else:
        raise AssertionError("a user turn out of place was stored")
