"""The store contract for images (issue 16, finding 4): run on SQLite and on PostgreSQL.

Images arrive as ``image_url`` parts with data URLs; the store keeps each once per conversation
and the turn an ``image_ref`` part; windows hand back data URLs within the image byte budget.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any

from PIL import Image

from bot.images import data_url, data_url_length
from bot.store import keys
from bot.store.images import NO_LONGER_STORED, NOT_RESENT
from bot.store.models import Conversation, UserTurn
from bot.store.protocol import Store
from bot.store.tokens import TokenCounter

from .conftest import StorePlace
from .helpers import plain_answer

BIG = 10**9
RawSql = Callable[..., Awaitable[list[Any]]]


def jpeg(width: int, height: int, shade: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (shade, 80, 160)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def image_part(data: bytes, mime: str = "image/jpeg") -> dict[str, object]:
    return {"type": "image_url", "image_url": {"url": data_url(mime, data)}}


def with_images(text: str, source: int, *images: bytes, author: int = 1) -> UserTurn:
    return UserTurn(author, "alice", text, [image_part(data) for data in images], source)


async def _dm(store: Store, user_id: int = 1) -> Conversation:
    return await store.get_or_create_conversation(
        keys.dm_key(user_id), guild_id=None, channel_id=50, thread_id=None, user_id=user_id
    )


async def _exchange(store: Store, conversation: Conversation, turn: UserTurn) -> int:
    exchange = await store.begin_exchange(conversation.id, turn)
    assert exchange is not None
    await store.complete_exchange(exchange.id, plain_answer(f"seen {turn.content}"))
    return exchange.id


async def test_an_image_sent_twice_is_stored_once_and_turns_keep_references(
    store: Store,
) -> None:
    dm = await _dm(store)
    photo, other = jpeg(640, 480, 10), jpeg(300, 200, 200)
    first = await _exchange(store, dm, with_images("one", 1, photo, photo))
    await _exchange(store, dm, with_images("two", 2, photo, other))

    stored = await store.list_images(dm.id)
    assert [(i.image_id, i.mime, i.width, i.height, i.size, i.data) for i in stored] == [
        (hashlib.sha256(photo).hexdigest(), "image/jpeg", 640, 480, len(photo), b""),
        (hashlib.sha256(other).hexdigest(), "image/jpeg", 300, 200, len(other), b""),
    ]
    (user_turn, _) = await store.exchange_turns(first)
    ref = {
        "type": "image_ref",
        "image_id": hashlib.sha256(photo).hexdigest(),
        "mime": "image/jpeg",
        "width": 640,
        "height": 480,
        "size": len(photo),
    }
    assert user_turn.parts == [ref, ref]
    fetched = await store.get_image(dm.id, str(ref["image_id"]))
    assert fetched is not None and fetched.data == photo
    assert await store.get_image(dm.id + 1, str(ref["image_id"])) is None, "per conversation"


async def test_the_window_resolves_references_newest_first_within_the_byte_budget(
    store: Store,
) -> None:
    dm = await _dm(store)
    old, new = jpeg(640, 480, 10), jpeg(640, 480, 90)
    await _exchange(store, dm, with_images("old", 1, old))
    await _exchange(store, dm, with_images("new", 2, new))
    counter = TokenCounter("gpt-4o")

    everything = await store.build_window(dm.id, BIG, counter, ["sys"], model="gpt-4o")
    assert [m["content"] for m in everything if m["role"] == "user"] == [
        [{"type": "text", "text": "old"}, image_part(old)],
        [{"type": "text", "text": "new"}, image_part(new)],
    ]
    one = data_url_length("image/jpeg", len(new))
    tight = await store.build_window(
        dm.id, BIG, counter, ["sys"], model="gpt-4o", max_image_bytes=one
    )
    assert [m["content"] for m in tight if m["role"] == "user"] == [
        [{"type": "text", "text": "old"}, {"type": "text", "text": NOT_RESENT}],
        [{"type": "text", "text": "new"}, image_part(new)],
    ]
    assert "image_ref" not in json.dumps(everything + tight)


async def test_the_stored_estimate_counts_an_image_by_its_tiles(place: StorePlace) -> None:
    counter = TokenCounter("gpt-4o")
    store = await place.open(counter=counter)
    dm = await _dm(store)
    exchange = await store.begin_exchange(dm.id, with_images("", 1, jpeg(1024, 1024, 5)))
    assert exchange is not None
    (turn,) = await store.exchange_turns(exchange.id)
    text_only = counter.count_message({"role": "user", "content": [], "name": "alice"})
    assert turn.token_estimate == text_only + 765, "1024x1024 on gpt-4o: 85 + 4 x 170"


async def test_data_url_parts_stored_before_keep_working(store: Store, raw_sql: RawSql) -> None:
    dm = await _dm(store)
    legacy = jpeg(320, 240, 40)
    exchange_id = await _exchange(store, dm, with_images("legacy", 1, legacy))
    # The row as toolcord stored images before schema 2: the data URL inside the turn.
    cast = "" if store.backend == "sqlite" else "::jsonb"
    parts = json.dumps([image_part(legacy)])
    await raw_sql(
        f"UPDATE turns SET parts = ?{cast} WHERE exchange_id = ? AND seq = 0", parts, exchange_id
    )
    await raw_sql("DELETE FROM images")

    window = await store.build_window(dm.id, BIG, TokenCounter(), ["sys"])
    assert window[1]["content"] == [{"type": "text", "text": "legacy"}, image_part(legacy)]
    small = await store.build_window(dm.id, BIG, TokenCounter(), ["sys"], max_image_bytes=10)
    assert small[1]["content"][1] == {"type": "text", "text": NOT_RESENT}


async def test_a_reference_whose_image_is_gone_becomes_a_note(
    store: Store, raw_sql: RawSql
) -> None:
    dm = await _dm(store)
    await _exchange(store, dm, with_images("gone", 1, jpeg(64, 64, 1)))
    await raw_sql("DELETE FROM images")
    window = await store.build_window(dm.id, BIG, TokenCounter(), ["sys"])
    assert window[1]["content"][1] == {"type": "text", "text": NO_LONGER_STORED}


async def test_forgetting_a_user_deletes_their_images_and_keeps_others(store: Store) -> None:
    shared = await store.get_or_create_conversation(
        "guild:10:channel:20", guild_id=10, channel_id=20, thread_id=None, user_id=1
    )
    dm = await _dm(store)
    mine, theirs, both = jpeg(50, 50, 1), jpeg(50, 50, 2), jpeg(50, 50, 3)
    await _exchange(store, shared, with_images("mine", 1, mine, both, author=1))
    await _exchange(store, shared, with_images("theirs", 2, theirs, both, author=2))
    await _exchange(store, dm, with_images("dm", 3, mine))

    await store.forget_user(1)

    left = {image.image_id for image in await store.list_images(shared.id)}
    assert left == {hashlib.sha256(theirs).hexdigest(), hashlib.sha256(both).hexdigest()}
    assert await store.list_images(dm.id) == []


async def test_clearing_a_conversation_deletes_its_images(store: Store) -> None:
    dm = await _dm(store)
    await _exchange(store, dm, with_images("x", 1, jpeg(50, 50, 9)))
    assert len(await store.list_images(dm.id)) == 1
    assert await store.clear_conversation(dm.key)
    assert await store.list_images(dm.id) == []
