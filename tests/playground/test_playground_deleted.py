"""Issue 16, finding 2: a message deleted on Discord no longer shows in the playground's export."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.playground import Playground

from .conftest import page_token
from .test_playground_server import open_page, post


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def test_a_deleted_message_is_redacted_in_the_export(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    random = playground.world.channels[1]
    token = page_token(await open_page(http, playground, random.id))
    url = f"{playground.base_url}channels/{random.id}"
    await post(http, f"{url}/messages", token, {"content": "roll 2d6 PIN 4321", "mention_bot": "1"})
    await playground.discord.wait_for_message(
        random, lambda m: "`roll_dice` returned" in m.content, timeout=20
    )
    (source,) = [m for m in playground.discord.messages(random) if "4321" in m.content]
    playground.discord.delete_message(source)

    async def exported() -> str:
        async with http.get(f"{url}/export") as response:
            assert response.status == 200
            return await response.text()

    async with asyncio.timeout(10):
        while "4321" in await exported():  # noqa: ASYNC110 - the store signals nothing
            await asyncio.sleep(0.02)
    document = json.loads(await exported())
    turns = [t for e in document["exchanges"] for t in e["turns"] if t["deleted_at"]]
    assert [(t["role"], t["content"]) for t in turns] == [("user", "[message deleted]")]
