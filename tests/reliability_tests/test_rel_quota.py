"""Quota bypass attempts with small counts: none gets through; the overshoot is within the bound."""

from __future__ import annotations

from tests.reliability.quota_bypass import quota_ok, run_quota_bypass
from tests.reliability.quota_parallel import ParallelPlan


async def test_no_quota_bypass_gets_through() -> None:
    figures = await run_quota_bypass(ParallelPlan())

    assert figures["attempts"] == 5
    assert figures["forget"] == {
        "model_calls": 0,
        "refused": True,
        "bypass": False,
        "unhandled_exceptions": 0,
    }
    assert (figures["voice"]["model_calls"], figures["voice"]["bypass"]) == (0, False)
    rules = figures["rules"]
    assert rules["model_calls"] == 3
    assert rules["recorded_tokens"] == rules["reported_tokens"] == 3 * 2042
    parallel = figures["parallel"]
    assert (parallel["spent"], parallel["model_requests"]) == (40_000, 4)
    dear = figures["parallel_underestimated"]
    assert dear["bound"] == 90_000 and 40_000 <= dear["spent"] <= 90_000
    assert figures["worst_overshoot"] == dear["overshoot"] == dear["spent"] - 40_000
    assert figures["bypasses"] == 0 and figures["unhandled_exceptions"] == 0
    assert quota_ok(figures)
