"""Knowledge and memory isolation (issue 18): >= 1,000 probes, 0 leaks, /forget-me leaves none."""

from __future__ import annotations

from tests.reliability.knowledge_isolation import (
    KnowledgePlan,
    knowledge_isolation_ok,
    run_knowledge_isolation,
)


async def test_knowledge_and_memory_never_cross_users_or_servers() -> None:
    figures = await run_knowledge_isolation(KnowledgePlan(probes=1000))

    assert figures["probes"] >= 1000 and figures["message_probes"] == 1000, figures
    assert figures["leaks"] == 0, figures
    assert figures["requests_with_own_memory"] > 0, "the control: memories must reach the model"
    assert figures["requests_with_own_knowledge"] > 0, "the control: search must find notes"
    assert figures["summaries_made"] > 0, figures
    assert figures["memories_before_forget"] > 0, figures
    assert figures["summaries_naming_them_before_forget"] > 0, figures
    assert figures["memories_after_forget"] == 0, figures
    assert figures["summaries_naming_them_after_forget"] == 0, figures
    assert figures["unanswered"] == 0, figures
    assert figures["unhandled_exceptions"] == 0, figures["errors"]
    assert knowledge_isolation_ok(figures)
