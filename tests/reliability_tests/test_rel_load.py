"""L1 with small counts: concurrent conversations answered exactly once."""

from __future__ import annotations

from tests.reliability.load import LoadPlan, load_ok, run_load


async def test_concurrent_conversations_lose_and_double_nothing() -> None:
    figures = await run_load(
        LoadPlan(conversations=30, turns=3, min_latency_s=0.05, max_latency_s=0.4)
    )

    assert figures["messages"] == 90
    assert figures["lost"] == 0, figures
    assert figures["duplicated"] == 0, figures
    assert figures["wrong"] == 0, figures
    assert figures["model_calls_extra"] == 0, figures
    assert figures["discord_400s"] == 0, figures
    assert figures["unhandled_exceptions"] == 0, figures["errors"]
    assert load_ok(figures)
