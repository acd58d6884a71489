"""Usage rows keep their details (issues 15 and 17): reasoning and tool-definition tokens.

Both are parts of the prompt/completion tokens the server reported: totals show them apart, and
``total_tokens`` (what budgets count) never adds them again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bot.store.migrations import Backend, load_migrations
from bot.store.models import Usage
from bot.store.protocol import Store

from .conftest import StorePlace
from .helpers import plain_answer, user


async def test_details_are_summed_apart_and_not_counted_twice(store: Store) -> None:
    conversation = await store.get_or_create_conversation(
        "channel:10:20", guild_id=10, channel_id=20, thread_id=None, user_id=None
    )
    exchange = await store.begin_exchange(conversation.id, user("why?", 1))
    assert exchange is not None
    turn_usage = Usage("gpt-5.6-terra", 900, 300, reasoning_tokens=250, tool_schema_tokens=640)
    await store.complete_exchange(exchange.id, plain_answer("because"), [5], turn_usage)
    await store.record_usage(
        Usage("gpt-5.6-terra", 100, 50, reasoning_tokens=20, tool_schema_tokens=0),
        user_id=1,
        guild_id=10,
    )
    await store.record_usage(Usage("gpt-image-1", images=1), user_id=2, guild_id=10)

    mine = await store.usage_totals(user_id=1)
    assert (mine.requests, mine.prompt_tokens, mine.completion_tokens) == (2, 1000, 350)
    assert (mine.reasoning_tokens, mine.tool_schema_tokens) == (270, 640)
    assert mine.total_tokens == 1350
    everyone = await store.usage_totals(guild_id=10)
    assert (everyone.requests, everyone.images, everyone.reasoning_tokens) == (3, 1, 270)


async def test_version_5_usage_rows_upgrade_with_no_details(
    place: StorePlace, raw_sql: Callable[..., Awaitable[list[Any]]]
) -> None:
    backend: Backend = "sqlite" if place.backend == "sqlite" else "postgres"
    old = await place.open(migrations=load_migrations(backend)[:5])
    assert await old.schema_version() == 5
    await old.close()
    moment = datetime.now(UTC)
    await raw_sql(  # a row as version 5 wrote it
        "INSERT INTO usage (user_id, guild_id, model, prompt_tokens, completion_tokens, images, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        *(1, 10, "gpt-4o", 40, 2, 0),
        int(moment.timestamp() * 1000) if backend == "sqlite" else moment,
    )
    new = await place.open()
    assert await new.schema_version() == len(load_migrations(backend)) >= 6
    await new.record_usage(Usage("gpt-4o", 10, 8, reasoning_tokens=6), user_id=1, guild_id=10)
    totals = await new.usage_totals(user_id=1)
    assert (totals.requests, totals.total_tokens) == (2, 60)
    assert (totals.reasoning_tokens, totals.tool_schema_tokens) == (6, 0)
