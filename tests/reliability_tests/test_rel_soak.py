"""A short soak (~20 s): nothing lost, and tasks, sockets and descriptors do not grow.

Memory and loop lag are reported by ``python -m tests.reliability soak``; over 20 s they say
little, so this test asserts counts only.
"""

from __future__ import annotations

from tests.reliability.soak import SoakPlan, run_soak, soak_counts_ok


async def test_a_short_soak_leaks_nothing() -> None:
    figures = await run_soak(SoakPlan(seconds=20, rate_per_s=5, channels=10, sample_s=1))

    assert figures["messages"] >= 90
    assert figures["samples"] >= 10
    assert figures["lost"] == 0, figures
    assert figures["duplicated"] == 0, figures
    assert figures["unhandled_exceptions"] == 0, figures
    assert soak_counts_ok(figures), figures
