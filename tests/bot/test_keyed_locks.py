"""Per-key ordering with parallel keys."""

from __future__ import annotations

import asyncio

from bot.keyed_locks import KeyedLocks


async def test_same_key_runs_in_order_and_other_keys_in_parallel() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    inside_a = asyncio.Event()
    release_a = asyncio.Event()

    async def first() -> None:
        async with locks.hold("a"):
            order.append("a1-start")
            inside_a.set()
            await release_a.wait()
            order.append("a1-end")

    async def second() -> None:
        async with locks.hold("a"):
            order.append("a2")

    async def other() -> None:
        async with locks.hold("b"):
            order.append("b")

    task1 = asyncio.create_task(first())
    await inside_a.wait()
    task2 = asyncio.create_task(second())
    await asyncio.wait_for(other(), 5)
    assert order == ["a1-start", "b"]
    release_a.set()
    await asyncio.wait_for(asyncio.gather(task1, task2), 5)
    assert order == ["a1-start", "b", "a1-end", "a2"]
    assert len(locks) == 0
