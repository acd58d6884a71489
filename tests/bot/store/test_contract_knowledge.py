"""The knowledge store contract (issue 18): every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from bot.knowledge.models import NewChunk
from bot.knowledge.vectors import pack
from bot.store import keys
from bot.store.knowledge import KnowledgeStore, knowledge_store
from bot.store.protocol import Store

from .helpers import plain_answer, user


def _chunk(title: str, text: str, vector: list[float]) -> NewChunk:
    return NewChunk(title, text, pack(vector))


@pytest.fixture
def knowledge(store: Store) -> KnowledgeStore:
    return knowledge_store(store)


async def _faq(knowledge: KnowledgeStore, guild: int = 10) -> int:
    source = await knowledge.add_source(
        guild,
        title="faq.md",
        kind="file",
        origin="attachment:faq.md",
        added_by=5,
        chunks=[
            _chunk("FAQ > Refunds", "Refunds take five days.", [1.0, 0.0, 0.0]),
            _chunk("FAQ > Shipping", "We ship from Lyon.", [0.0, 1.0, 0.0]),
            _chunk("FAQ > Codes", "The adapter part is ZX-4411-Q.", [0.0, 0.0, 1.0]),
        ],
    )
    assert (source.title, source.kind, source.chunk_count, source.added_by) == (
        "faq.md",
        "file",
        3,
        5,
    )
    return source.id


async def test_sources_are_listed_per_guild(knowledge: KnowledgeStore) -> None:
    first = await _faq(knowledge)
    await _faq(knowledge, guild=11)
    listed = await knowledge.list_sources(10)
    assert [(source.id, source.guild_id, source.origin) for source in listed] == [
        (first, 10, "attachment:faq.md")
    ]
    assert await knowledge.chunk_count(10) == 3


async def test_vector_search_ranks_the_nearest_chunk_first(knowledge: KnowledgeStore) -> None:
    await _faq(knowledge)
    hits = await knowledge.search(10, "", [0.1, 0.9, 0.0], 2)
    assert [hit.title for hit in hits] == ["FAQ > Shipping", "FAQ > Refunds"]
    assert (hits[0].source_title, hits[0].origin) == ("faq.md", "attachment:faq.md")


async def test_an_exact_code_is_found_by_full_text(knowledge: KnowledgeStore) -> None:
    await _faq(knowledge)
    # The vector points at refunds; only the full-text side knows the code.
    hits = await knowledge.search(10, "Which part is ZX-4411-Q?", [1.0, 0.0, 0.0], 3)
    assert {hit.title for hit in hits[:2]} == {"FAQ > Codes", "FAQ > Refunds"}
    lexical_only = await knowledge.search(10, "zx 4411", None, 3)
    assert [hit.text for hit in lexical_only] == ["The adapter part is ZX-4411-Q."]


async def test_search_never_crosses_guilds(knowledge: KnowledgeStore) -> None:
    await _faq(knowledge, guild=11)
    assert await knowledge.search(10, "refunds shipping ZX", [1.0, 1.0, 1.0], 5) == []


async def test_a_removed_source_is_never_found_again(knowledge: KnowledgeStore) -> None:
    source_id = await _faq(knowledge)
    assert len(await knowledge.search(10, "refunds", [1.0, 0.0, 0.0], 5)) == 3
    assert await knowledge.remove_source(11, source_id) is None  # another guild cannot
    removed = await knowledge.remove_source(10, source_id)
    assert removed is not None and removed.id == source_id
    assert await knowledge.search(10, "refunds", [1.0, 0.0, 0.0], 5) == []
    assert await knowledge.list_sources(10) == []
    assert await knowledge.chunk_count(10) == 0
    assert await knowledge.remove_source(10, source_id) is None


async def test_search_sees_a_source_added_after_a_cached_search(knowledge: KnowledgeStore) -> None:
    await _faq(knowledge)
    assert len(await knowledge.search(10, "", [1.0, 0.0, 0.0], 10)) == 3
    await knowledge.add_source(
        10,
        title="late.md",
        kind="file",
        origin="attachment:late.md",
        added_by=5,
        chunks=[_chunk("Late", "Added later.", [1.0, 0.1, 0.0])],
    )
    hits = await knowledge.search(10, "", [1.0, 0.1, 0.0], 10)
    assert hits[0].source_title == "late.md" and len(hits) == 4


async def test_memories_are_scoped_to_user_and_guild(knowledge: KnowledgeStore) -> None:
    kept = await knowledge.remember(1, 10, "I like tea")
    await knowledge.remember(1, 0, "my cat is Tom")
    await knowledge.remember(2, 10, "I like coffee")
    assert [m.text for m in await knowledge.memories(1, 10)] == ["I like tea"]
    assert [m.text for m in await knowledge.memories(1, 0)] == ["my cat is Tom"]
    assert [m.text for m in await knowledge.memories(1, None)] == ["I like tea", "my cat is Tom"]
    assert await knowledge.forget_memories(2, 10, kept.id) == 0  # not theirs
    assert await knowledge.forget_memories(1, 0, kept.id) == 0  # not in that scope
    assert await knowledge.forget_memories(1, 10, kept.id) == 1
    assert await knowledge.forget_memories(1, 0, None) == 1
    assert await knowledge.memories(1, None) == []
    assert [m.text for m in await knowledge.memories(2, 10)] == ["I like coffee"]


async def test_summary_is_replaced_and_told_once(store: Store, knowledge: KnowledgeStore) -> None:
    conversation = await store.get_or_create_conversation(
        "guild:10:channel:20", guild_id=10, channel_id=20, thread_id=None, user_id=1
    )
    assert await knowledge.summary(conversation.id) is None
    await knowledge.save_summary(conversation.id, "first", 4, 10)
    assert await knowledge.mark_told(conversation.id) is True
    await knowledge.save_summary(conversation.id, "second", 9, 12)
    summary = await knowledge.summary(conversation.id)
    assert summary is not None
    assert (summary.text, summary.through_turn_id, summary.token_estimate, summary.told) == (
        "second",
        9,
        12,
        True,
    )
    assert await knowledge.mark_told(conversation.id) is False


async def test_forget_user_deletes_memories_and_summaries(
    store: Store, knowledge: KnowledgeStore
) -> None:
    shared = await store.get_or_create_conversation(
        "guild:10:channel:20", guild_id=10, channel_id=20, thread_id=None, user_id=2
    )
    other = await store.get_or_create_conversation(
        "guild:10:channel:21", guild_id=10, channel_id=21, thread_id=None, user_id=2
    )
    dm = await store.get_or_create_conversation(
        keys.dm_key(1), guild_id=None, channel_id=70, thread_id=None, user_id=1
    )
    exchange = await store.begin_exchange(shared.id, user("my code is 1234", 501, author=1))
    assert exchange is not None
    await store.complete_exchange(exchange.id, plain_answer("noted"))
    for conversation in (shared, other, dm):
        await knowledge.save_summary(conversation.id, "user 1 said 1234", 1, 5)
    await knowledge.remember(1, 10, "secret")
    await knowledge.remember(1, 0, "dm secret")
    await knowledge.remember(2, 10, "theirs")
    await store.forget_user(1)
    assert await knowledge.memories(1, None) == []
    assert await knowledge.summary(shared.id) is None
    assert await knowledge.summary(dm.id) is None
    assert await knowledge.summary(other.id) is not None  # user 1 never spoke there
    assert [m.text for m in await knowledge.memories(2, None)] == ["theirs"]


async def test_turns_since_lists_complete_text_turns(
    store: Store, knowledge: KnowledgeStore
) -> None:
    conversation = await store.get_or_create_conversation(
        "guild:10:channel:20", guild_id=10, channel_id=20, thread_id=None, user_id=1
    )
    first = await store.begin_exchange(conversation.id, user("one", 1))
    assert first is not None
    await store.complete_exchange(first.id, plain_answer("answer one"))
    pending = await store.begin_exchange(conversation.id, user("two", 2))
    assert pending is not None
    turns = await knowledge.turns_since(conversation.id, 0)
    assert [(t.role, t.author_name, t.content) for t in turns] == [
        ("user", "alice", "one"),
        ("assistant", None, "answer one"),
    ]
    assert all(t.token_estimate > 0 for t in turns)
    assert await knowledge.turns_since(conversation.id, turns[-1].id) == []
