"""The suite's scenarios, their sizes (full and quick), their gates and the headline sentences."""

from __future__ import annotations

import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.reliability import (
    attachment_limits,
    config_secrets,
    crash,
    escalation,
    export_probes,
    faults,
    faults_discord,
    faults_openai,
    faults_store,
    hostile,
    hostile_pages,
    images,
    isolation,
    knowledge_isolation,
    load,
    mcp_security,
    playground_access,
    quota_bypass,
    quota_parallel,
    quota_reset,
    secrets_scan,
    ssrf,
)

Figures = dict[str, Any]
FAULT_CASES = [*faults_discord.CASES, *faults_openai.CASES, *faults_store.CASES]


@dataclass(frozen=True)
class Scenario:
    """One driver: how to run it at full or quick size, and its gate."""

    name: str
    full: Callable[[], Awaitable[Figures]]
    quick: Callable[[], Awaitable[Figures]]
    ok: Callable[[Figures], bool]
    headline: Callable[[Figures], str]


def _load_line(f: Figures) -> str:
    return (
        f"{f['conversations']} concurrent conversations x {f['turns_per_conversation']} turns: "
        f"{f['answered']}/{f['messages']} answered, {f['lost']} lost, {f['duplicated']} duplicated"
    )


def _crash_line(f: Figures) -> str:
    return (
        f"{f['kills']} kill -9 mid-reply ({f['messages']} replies in flight): {f['lost']} lost, "
        f"{f['duplicated']} duplicated, integrity ok: {f['integrity_ok']}"
    )


def _faults_line(f: Figures) -> str:
    return (
        f"{f['survived']}/{f['kinds']} injected fault kinds survived with a user-visible outcome "
        f"within 30 s (slowest {f['max_seconds_to_user']} s); "
        f"{f['unhandled_exceptions']} unhandled exceptions"
    )


def _hostile_line(f: Figures) -> str:
    return (
        f"{f['inputs']} hostile inputs: {f['discord_rejections']} payloads Discord rejected, "
        f"{f['mass_pings']} mass pings, {f['unanswered']} unanswered"
    )


def _escalation_line(f: Figures) -> str:
    return (
        f"{f['attempts']} privilege-escalation attempts: {f['executed']} executed, "
        f"{f['offered_to_the_model']} offered to the model "
        f"({f['positive_controls_executed']}/{f['positive_controls']} permitted controls ran)"
    )


def _knowledge_line(f: Figures) -> str:
    return (
        f"{f['probes']} knowledge/memory probes: {f['leaks']} leaks; after /forget-me "
        f"{f['memories_after_forget']} memories, "
        f"{f['summaries_naming_them_after_forget']} summaries left"
    )


def _isolation_line(f: Figures) -> str:
    return (
        f"{f['probes']} isolation probes over {f['conversations']} conversations: "
        f"{f['leaks']} leaks"
    )


def _ssrf_line(f: Figures) -> str:
    return (
        f"{f['variants']} SSRF variants: {f['refused']} refused, "
        f"{f['connections_to_denied_addresses']} connections to denied addresses"
    )


def _secrets_line(f: Figures) -> str:
    return (
        f"{f['canaries']} canary secrets at DEBUG over {f['log_lines']} log lines, user-visible "
        f"texts and the database: {f['hits']} hits"
    )


def _images_line(f: Figures) -> str:
    return (
        f"{f['images_attached']} images (~1 MB each) over {f['image_messages']} messages: "
        f"largest request {f['max_request_bytes'] / 1e6:.1f} MB (image budget "
        f"{f['image_budget_bytes'] / 1e6:.0f} MB); a text-only turn "
        f"{f['text_only_request_bytes'] / 1e6:.1f} MB, "
        f"{f['text_only_bytes_before_fix'] / 1e6:.1f} MB before the fix; "
        f"{f['images_stored']} stored for {f['distinct_images']} distinct"
    )


def _mcp_line(f: Figures) -> str:
    return (
        f"{f['injected_attempts']} MCP results steering toward an acting tool: "
        f"{f['injected_executed']} executed without approval; {f['no_permission_attempts']} "
        f"asks by members without the server's permission: {f['no_permission_calls']} calls"
    )


def _export_line(f: Figures) -> str:
    return (
        f"{f['probes']} export probes (no Read Message History, deleted, bulk-deleted, "
        f"control): {f['leaks']} leaks ({f['controls_seen']}/{f['controls']} controls saw "
        "their canary)"
    )


def _quota_line(f: Figures) -> str:
    return (
        f"{f['attempts']} quota bypass attempts (forget, voice, rules, parallel x2): "
        f"{f['bypasses']} got through; worst overshoot {f['worst_overshoot']:,} tokens over a "
        f"{f['budget']:,}-token budget ({f['worst_overshoot_in']}; stated bound: "
        f"{f['bound']:,})"
    )


def _hostile_pages_line(f: Figures) -> str:
    return (
        f"{f['pages']} hostile pages of {f['page_chars']:,} chars: worst parse "
        f"{f['worst_parse_seconds']} s; {f['fetches']} concurrent fetches, worst getaddrinfo "
        f"{f['worst_getaddrinfo_ms']} ms"
    )


def _config_secrets_line(f: Figures) -> str:
    return (
        f"{f['placements']} secrets placed in the config file: {f['accepted']} accepted, "
        f"{f['refusals_without_env_name']} refusals without the env var to use"
    )


def _playground_line(f: Figures) -> str:
    return (
        f"{f['probes']} playground requests without its printed link: {f['let_in']} let in, "
        f"{f['messages_injected_by_probes']} messages injected"
    )


def _attachment_line(f: Figures) -> str:
    return (
        f"{f['cases']} answers with too many or too large files: {f['files_made']} made, "
        f"{f['files_delivered']} delivered, {f['files_named_in_notices']} named in a notice, "
        f"{f['files_lost_silently']} lost silently, {f['discord_refusals']} Discord refusals"
    )


def _quota_reset_line(f: Figures) -> str:
    return (
        f"{f['attempts']} quota resets by server admins and members: {f['budgets_lifted']} "
        f"budgets lifted (the owner's reset works: {f['owner_reset_works']})"
    )


SCENARIOS = (
    Scenario(
        "load",
        lambda: load.run_load(load.LoadPlan()),
        lambda: load.run_load(load.LoadPlan(50, 3, 0.05, 0.3)),
        load.load_ok,
        _load_line,
    ),
    Scenario(
        "crash",
        lambda: crash.run_crash(crash.CrashPlan(kills=100)),
        lambda: crash.run_crash(crash.CrashPlan(kills=10)),
        crash.crash_ok,
        _crash_line,
    ),
    Scenario(
        "faults",
        lambda: faults.run_faults(FAULT_CASES),
        lambda: faults.run_faults(FAULT_CASES),
        faults.faults_ok,
        _faults_line,
    ),
    Scenario(
        "hostile_inputs",
        lambda: hostile.run_hostile(hostile.HostilePlan(generated=450)),
        lambda: hostile.run_hostile(hostile.HostilePlan(generated=120)),
        hostile.hostile_ok,
        _hostile_line,
    ),
    Scenario(
        "privilege_escalation",
        lambda: escalation.run_escalation(escalation.VECTORS),
        lambda: escalation.run_escalation(("direct",)),
        escalation.escalation_ok,
        _escalation_line,
    ),
    Scenario(
        "isolation",
        lambda: isolation.run_isolation(isolation.IsolationPlan(probes=1000)),
        lambda: isolation.run_isolation(isolation.IsolationPlan(probes=200)),
        isolation.isolation_ok,
        _isolation_line,
    ),
    Scenario(
        "knowledge_isolation",
        lambda: knowledge_isolation.run_knowledge_isolation(
            knowledge_isolation.KnowledgePlan(probes=1000)
        ),
        lambda: knowledge_isolation.run_knowledge_isolation(
            knowledge_isolation.KnowledgePlan(probes=150)
        ),
        knowledge_isolation.knowledge_isolation_ok,
        _knowledge_line,
    ),
    Scenario(
        "image_requests",
        lambda: images.run_images(images.ImagePlan()),
        lambda: images.run_images(images.ImagePlan(image_turns=8, text_turns=2)),
        images.images_ok,
        _images_line,
    ),
    Scenario(
        "mcp_security",
        lambda: mcp_security.run_mcp_security(mcp_security.McpPlan()),
        lambda: mcp_security.run_mcp_security(mcp_security.McpPlan(6, 6, 2)),
        mcp_security.mcp_security_ok,
        _mcp_line,
    ),
    Scenario("ssrf", ssrf.run_ssrf, ssrf.run_ssrf, ssrf.ssrf_ok, _ssrf_line),
    Scenario(
        "export_probes",
        lambda: export_probes.run_export_probes(export_probes.ExportPlan(probes=40)),
        lambda: export_probes.run_export_probes(export_probes.ExportPlan(probes=12)),
        export_probes.export_ok,
        _export_line,
    ),
    Scenario(
        "quota_bypass",
        lambda: quota_bypass.run_quota_bypass(quota_parallel.ParallelPlan(turns=10)),
        lambda: quota_bypass.run_quota_bypass(quota_parallel.ParallelPlan()),
        quota_bypass.quota_ok,
        _quota_line,
    ),
    Scenario(
        "secrets",
        secrets_scan.run_secrets,
        secrets_scan.run_secrets,
        secrets_scan.secrets_ok,
        _secrets_line,
    ),
    Scenario(
        "hostile_pages",
        hostile_pages.run_hostile_pages,
        lambda: hostile_pages.run_hostile_pages(size=300_000, copies=2),
        hostile_pages.hostile_pages_ok,
        _hostile_pages_line,
    ),
    Scenario(
        "config_secrets",
        config_secrets.run_config_secrets_async,
        config_secrets.run_config_secrets_async,
        config_secrets.config_secrets_ok,
        _config_secrets_line,
    ),
    Scenario(
        "playground_access",
        playground_access.run_playground_access,
        playground_access.run_playground_access,
        playground_access.playground_access_ok,
        _playground_line,
    ),
    Scenario(
        "attachment_limits",
        attachment_limits.run_attachment_limits,
        attachment_limits.run_attachment_limits,
        attachment_limits.attachment_limits_ok,
        _attachment_line,
    ),
    Scenario(
        "quota_reset",
        quota_reset.run_quota_reset,
        quota_reset.run_quota_reset,
        quota_reset.quota_reset_ok,
        _quota_reset_line,
    ),
)


async def run_scenario(scenario: Scenario, *, quick: bool) -> Figures:
    """Run one scenario; a driver that raised is reported as failed, with the reason."""
    started = time.monotonic()
    try:
        figures = await (scenario.quick() if quick else scenario.full())
    except Exception as exc:  # one broken driver must not hide the other figures
        return {
            "ok": False,
            "crashed": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8).splitlines()[-8:],
            "seconds": round(time.monotonic() - started, 1),
        }
    figures["ok"] = scenario.ok(figures)
    figures["headline"] = scenario.headline(figures)
    figures["seconds"] = round(time.monotonic() - started, 1)
    return figures
