"""Export probes with small counts: no canary leaks through /export or the window (issue 16)."""

from __future__ import annotations

from tests.reliability.export_probes import ExportPlan, export_ok, run_export_probes


async def test_no_export_probe_leaks() -> None:
    figures = await run_export_probes(ExportPlan(probes=8))

    assert figures["probes"] == 8
    assert figures["by_kind"] == {"no_history": 2, "deleted": 2, "bulk_deleted": 2, "control": 2}
    assert figures["controls_seen"] == 2, "the control: a reader with history sees the canary"
    assert figures["leaks"] == 0, figures
    assert figures["unhandled_exceptions"] == 0, figures["errors"]
    assert export_ok(figures)
