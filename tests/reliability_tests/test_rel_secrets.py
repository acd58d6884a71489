"""Secrets: canary token, key and interaction tokens appear nowhere, even at DEBUG."""

from __future__ import annotations

from tests.reliability.secrets_scan import run_secrets, secrets_ok


async def test_no_canary_in_logs_texts_or_database() -> None:
    figures = await run_secrets()

    assert figures["debug_lines"] > 0, "DEBUG logging must really be on"
    assert figures["interaction_tokens"] >= 3
    assert figures["unhandled_exceptions"] == 0, figures
    assert figures["hits"] == 0, figures["hits_by_place"]
    assert secrets_ok(figures)
