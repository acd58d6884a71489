"""Quota reset rights: no server admin lifts the owner's budget; the owner's reset does."""

from __future__ import annotations

from tests.reliability.quota_reset import COMMANDS, PERSONAS, quota_reset_ok, run_quota_reset


async def test_no_admin_lifts_the_budget_and_the_owner_can() -> None:
    figures = await run_quota_reset()

    assert figures["attempts"] == len(PERSONAS) * len(COMMANDS) == 16
    assert figures["budget_was_spent"] is True
    assert figures["budgets_lifted"] == 0, figures
    assert figures["owner_reset_works"] is True
    assert quota_reset_ok(figures)
