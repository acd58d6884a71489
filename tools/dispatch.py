"""Dispatcher: runs the tool calls of one conversation turn and answers every call id.

Rules (see docs/tool-calling-facts.md section 2): arguments are validated locally and errors fed
back as results; bad calls count against a per-tool retry budget per turn; tools run
concurrently under a bound while side-effecting tools run alone and go through the ledger;
timeouts and failures become results; internal errors are sanitized (traceback only in the
``toolcord.tools`` log); cancellation is never swallowed.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from tools.approval import (
    DEFAULT_POLICY,
    ApprovalDecision,
    Approver,
    awaiting_message,
    refusal_message,
    unknown_outcome_message,
)
from tools.calls import (
    EventCallback,
    OutcomeStatus,
    ToolCall,
    ToolEvent,
    ToolFinished,
    ToolOutcome,
    ToolProgress,
    ToolStarted,
)
from tools.context import ProgressCallback, ToolContext
from tools.definition import Tool
from tools.errors import ArgumentsNotJSON, ToolFailed, ToolRetry
from tools.ledger import Ledger, ledger_key
from tools.registry import ToolRegistry, unavailable_reason

logger = logging.getLogger("toolcord.tools")

DEFAULT_MAX_OUTPUT_CHARS = 16_000
_INPUT_PREVIEW = 80


@dataclass(frozen=True, slots=True)
class _Runnable:
    index: int
    call: ToolCall
    tool: Tool
    params: BaseModel


@dataclass(frozen=True, slots=True)
class _Result:
    status: OutcomeStatus
    content: str
    settled: bool  # the outcome of a side effect is known (safe to complete in the ledger)


class Dispatcher:
    """Runs tool calls for one conversation turn (create a new one per turn).

    Args:
        registry: Where tool names are looked up.
        ctx: The turn's context; each call gets a copy via :meth:`ToolContext.for_call`.
        allowed: Names offered to the model this turn; others are refused.
        concurrency: Most calls in flight at once.
        retry_budget: Bad calls per tool per turn before "stop calling" (a tool's
            ``max_retries`` overrides it).
        ledger: Records side effects so they never run twice; None = no ledger.
        on_event: Called (sync or async) with ToolStarted / ToolProgress / ToolFinished.
        max_output_chars: Longer tool output is truncated before the model sees it.
        max_files: Most files one answer may carry (the turn's artifacts so far count); a call
            whose declared files would go beyond it is refused before it runs. None = no cap.
    """

    def __init__(
        self,
        registry: ToolRegistry,
        ctx: ToolContext,
        allowed: Collection[str],
        *,
        concurrency: int = 4,
        retry_budget: int = 2,
        ledger: Ledger | None = None,
        on_event: EventCallback | None = None,
        max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
        max_files: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("Dispatcher concurrency must be at least 1.")
        self._registry = registry
        self._ctx = ctx
        self._allowed = frozenset(allowed)
        self._usable = [t.name for t in registry.available(ctx, self._allowed)]
        self._semaphore = asyncio.Semaphore(concurrency)
        self._retry_budget = retry_budget
        self._ledger = ledger
        self._on_event = on_event
        self._max_output_chars = max_output_chars
        self._max_files = max_files
        # Files this turn's calls made so far (the engine keeps the files themselves).
        self._files_made = len(ctx.artifacts)
        self._failures: dict[str, int] = {}
        self._exhausted: set[str] = set()
        self.started_call_ids: set[str] = set()
        """Ids of calls whose tool started running (for reconciling a cancelled turn)."""
        self.finished_call_ids: set[str] = set()
        """Ids of calls whose tool ran to an outcome."""

    async def run(self, calls: Sequence[ToolCall]) -> list[ToolOutcome]:
        """Answer ``calls``: one outcome per call, in call order."""
        outcomes: dict[int, ToolOutcome] = {}
        runnables: list[_Runnable] = []
        seen_ids: set[str] = set()
        for index, call in enumerate(calls):
            if call.id in seen_ids:
                prepared: ToolOutcome | _Runnable = _immediate(
                    call, "skipped_duplicate", "Duplicate tool call id in this batch; ignored."
                )
            else:
                seen_ids.add(call.id)
                prepared = self._prepare(index, call)
            if isinstance(prepared, _Runnable):
                prepared = self._within_file_cap(prepared, self._files_made, runnables)
            if isinstance(prepared, ToolOutcome):
                outcomes[index] = prepared
                await self._emit(ToolFinished(prepared))
            else:
                runnables.append(prepared)
        for segment in _segments(runnables):
            for runnable, outcome in zip(segment, await self._run_segment(segment), strict=True):
                outcomes[runnable.index] = outcome
        return [outcomes[index] for index in range(len(calls))]

    # ------------------------------------------------------------------ preparation

    def _prepare(self, index: int, call: ToolCall) -> ToolOutcome | _Runnable:
        if call.name in self._exhausted:
            return _immediate(call, "budget_exhausted", _stop_message(call.name, None))
        tool = self._registry.get(call.name)
        if tool is None:
            return self._retryable(call, None, "unknown_tool", self._unknown_message(call.name))
        reason = unavailable_reason(tool, self._ctx, self._allowed)
        if reason is not None:
            return _immediate(call, "denied", _denied_message(tool.name, reason))
        try:
            params = tool.parse_arguments(call.arguments)
        except ArgumentsNotJSON as error:
            message = (
                f"The arguments for '{tool.name}' are not usable: {error}. Send one JSON object "
                f"matching the tool's parameters and call '{tool.name}' again."
            )
            return self._retryable(call, tool, "invalid_json", message)
        except ValidationError as error:
            message = (
                f"The arguments for '{tool.name}' are invalid: {_compact_errors(error)}. "
                f"Fix these errors and call '{tool.name}' again."
            )
            return self._retryable(call, tool, "invalid_arguments", message)
        return _Runnable(index, call, tool, params)

    def _within_file_cap(
        self, runnable: _Runnable, made: int, admitted: list[_Runnable]
    ) -> ToolOutcome | _Runnable:
        """The runnable, or a refusal when its files would not fit in the answer."""
        need = runnable.tool.files_of(runnable.params)
        if self._max_files is None or need == 0:
            return runnable
        coming = made + sum(r.tool.files_of(r.params) for r in admitted)
        if coming + need <= self._max_files:
            return runnable
        return _immediate(
            runnable.call,
            "denied",
            _file_cap_message(runnable.tool.name, self._max_files, coming, need),
        )

    def _retryable(
        self, call: ToolCall, tool: Tool | None, status: OutcomeStatus, message: str
    ) -> ToolOutcome:
        status, message = self._count_failure(call.name, tool, status, message)
        return _immediate(call, status, message)

    def _count_failure(
        self, name: str, tool: Tool | None, status: OutcomeStatus, message: str
    ) -> tuple[OutcomeStatus, str]:
        count = self._failures.get(name, 0) + 1
        self._failures[name] = count
        budget = self._retry_budget
        if tool is not None and tool.max_retries is not None:
            budget = tool.max_retries
        if count <= budget:
            return status, message
        self._exhausted.add(name)
        return "budget_exhausted", _stop_message(name, message)

    def _unknown_message(self, name: str) -> str:
        shown = name[:64]
        if not self._usable:
            return (
                f"There is no tool named '{shown}' and no tools are available here; "
                "answer without tools."
            )
        return (
            f"There is no tool named '{shown}'. Available tools: {', '.join(self._usable)}. "
            "Call one of these or answer without a tool."
        )

    # ------------------------------------------------------------------ execution

    async def _run_segment(self, segment: list[_Runnable]) -> list[ToolOutcome]:
        if len(segment) == 1:
            return [await self._execute(segment[0])]
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._execute(runnable)) for runnable in segment]
        return [task.result() for task in tasks]

    async def _execute(self, runnable: _Runnable) -> ToolOutcome:
        if runnable.tool.approval:
            return await self._execute_approved(runnable)
        async with self._semaphore:
            key = None
            if runnable.tool.side_effects and self._ledger is not None:
                key = self._key(runnable)
                replay = await self._claim(runnable, key)
                if replay is not None:
                    await self._emit(ToolFinished(replay))
                    return replay
            outcome, settled = await self._run_tool(runnable)
            if key is not None and settled:
                await self._complete(key, outcome)
            await self._emit(ToolFinished(outcome))
            return outcome

    async def _execute_approved(self, runnable: _Runnable) -> ToolOutcome:
        """A tool that needs approval: ledger first, then ask, then run (once)."""
        call, tool = runnable.call, runnable.tool
        key = self._key(runnable) if self._ledger is not None else None
        if key is not None:
            replay = await self._claim(runnable, key)
            if replay is not None:
                await self._emit(ToolFinished(replay))
                return replay
            await self._record(key, awaiting_message(tool.name), "awaiting_approval")
        refused = await self._check_first(runnable)
        if isinstance(refused, ToolOutcome):
            if key is not None:
                await self._complete(key, refused)
            await self._emit(ToolFinished(refused))
            return refused
        decision = await self._ask(runnable, refused)
        if decision not in ("allow_once", "allow_conversation"):
            denied = _immediate(call, "denied", refusal_message(tool.name, decision))
            if key is not None:
                await self._complete(key, denied)
            await self._emit(ToolFinished(denied))
            return denied
        async with self._semaphore:
            if key is not None:
                await self._record(key, unknown_outcome_message(tool.name), "attempted")
            outcome, settled = await self._run_tool(runnable)
            if key is not None and settled:
                await self._complete(key, outcome)
            await self._emit(ToolFinished(outcome))
            return outcome

    async def _check_first(self, runnable: _Runnable) -> ToolOutcome | str | None:
        """The policy's check before asking: its description, or the refusal as an outcome."""
        policy, tool = runnable.tool.approval_policy, runnable.tool
        if policy is None or policy.check is None:
            return None
        try:
            async with asyncio.timeout(tool.timeout):
                return await policy.check(self._call_ctx(runnable), runnable.params)
        except ToolRetry as error:
            status, text = self._count_failure(
                tool.name,
                tool,
                "invalid_arguments",
                f"{error.message} Fix the call and try '{tool.name}' again.",
            )
            return _immediate(runnable.call, status, text)
        except ToolFailed as error:
            message = f"'{tool.name}' was not run and nobody was asked: {error.message}"
        except TimeoutError:
            message = f"'{tool.name}' was not run: checking it took too long. Try again later."
        except Exception:
            logger.exception(
                "approval check of tool %s call %s failed", tool.name, runnable.call.id
            )
            message = _internal_error(tool, runnable.call)
        return _immediate(runnable.call, "error", message)

    def _call_ctx(self, runnable: _Runnable) -> ToolContext:
        tool = runnable.tool
        return self._ctx.for_call(
            call_id=runnable.call.id, tool_name=tool.name, family=tool.family, on_progress=None
        )

    async def _ask(self, runnable: _Runnable, description: str | None) -> ApprovalDecision:
        approver = self._ctx.deps.approver
        if not isinstance(approver, Approver):
            return "unavailable"
        tool = runnable.tool
        policy = tool.approval_policy or DEFAULT_POLICY
        try:
            return await approver.decide(
                self._call_ctx(runnable),
                tool.name,
                runnable.params,
                runnable.call,
                tool.required_permissions,
                policy=policy,
                description=description,
            )
        except Exception:
            logger.exception("approval of tool %s call %s failed", tool.name, runnable.call.id)
            return "unavailable"

    async def _record(self, key: str, text: str, status: str) -> None:
        assert self._ledger is not None
        try:
            await self._ledger.complete(key, text, status)
        except Exception:
            logger.exception("ledger update failed for key %s", key)

    async def _run_tool(self, runnable: _Runnable) -> tuple[ToolOutcome, bool]:
        """Run the tool; also says whether a side effect's outcome is known."""
        call, tool = runnable.call, runnable.tool
        child = self._ctx.for_call(
            call_id=call.id,
            tool_name=tool.name,
            family=tool.family,
            on_progress=self._progress_callback(call),
        )
        self.started_call_ids.add(call.id)
        await self._emit(ToolStarted(call, tool.progress_text(runnable.params)))
        started = time.monotonic()
        result = await self._invoke(tool, child, runnable)
        finished = time.monotonic()
        self.finished_call_ids.add(call.id)
        artifacts = list(child.artifacts) if result.status == "ok" else []
        self._files_made += len(artifacts)
        logger.info(
            "tool %s call %s: %s in %.3fs", tool.name, call.id, result.status, finished - started
        )
        outcome = ToolOutcome(
            call_id=call.id,
            name=call.name,
            content=result.content,
            status=result.status,
            artifacts=artifacts,
            duration_s=finished - started,
            started_at=started,
            finished_at=finished,
        )
        return outcome, result.settled

    async def _invoke(self, tool: Tool, child: ToolContext, runnable: _Runnable) -> _Result:
        scope = asyncio.timeout(tool.timeout)
        try:
            async with scope:
                value = await tool.invoke(child, runnable.params)
            return _Result("ok", self._render(value), True)
        except ToolRetry as error:
            status, message = self._count_failure(
                tool.name,
                tool,
                "invalid_arguments",
                f"{error.message} Fix the call and try '{tool.name}' again.",
            )
            return _Result(status, message, True)
        except ToolFailed as error:
            return _Result("error", f"'{tool.name}' failed: {error.message}", True)
        except TimeoutError:
            if scope.expired():
                return _Result("timeout", _timeout_message(tool), False)
            return _Result("error", _internal_error(tool, runnable.call), False)
        except Exception:
            return _Result("error", _internal_error(tool, runnable.call), False)

    def _render(self, value: Any) -> str:
        if isinstance(value, str):
            text = value
        elif value is None:
            text = "Done."
        elif isinstance(value, BaseModel):
            text = value.model_dump_json()
        else:
            try:
                text = json.dumps(value, ensure_ascii=False, default=str)
            except (TypeError, ValueError):
                text = str(value)
        if len(text) > self._max_output_chars:
            cut = len(text) - self._max_output_chars
            text = f"{text[: self._max_output_chars]}\n[output truncated: {cut} more characters]"
        return text

    # ------------------------------------------------------------------ ledger

    def _key(self, runnable: _Runnable) -> str:
        arguments = Tool.canonical_arguments(runnable.params)
        return ledger_key(
            self._ctx.conversation_id, self._ctx.turn_id, runnable.tool.name, arguments
        )

    async def _claim(self, runnable: _Runnable, key: str) -> ToolOutcome | None:
        assert self._ledger is not None
        call, tool = runnable.call, runnable.tool
        try:
            arguments = Tool.canonical_arguments(runnable.params)
            record = await self._ledger.claim(key, tool.name, arguments)
        except Exception:
            logger.exception("ledger claim failed for tool %s call %s", tool.name, call.id)
            return _immediate(
                call,
                "error",
                f"'{tool.name}' was not run because its safety record could not be written. "
                "Tell the user to try again later.",
            )
        if record is None:
            return None
        if record.status == "completed" and record.result is not None:
            return _immediate(call, "skipped_duplicate", record.result)
        return _immediate(
            call,
            "skipped_duplicate",
            f"This action ('{tool.name}' with these arguments) was already attempted and its "
            "outcome is unknown; do not repeat it. Tell the user to check whether it happened.",
        )

    async def _complete(self, key: str, outcome: ToolOutcome) -> None:
        assert self._ledger is not None
        try:
            await self._ledger.complete(key, outcome.content, outcome.status)
        except Exception:
            logger.exception("ledger completion failed for call %s", outcome.call_id)

    # ------------------------------------------------------------------ events

    def _progress_callback(self, call: ToolCall) -> ProgressCallback:
        async def report(text: str) -> None:
            await self._emit(ToolProgress(call, text))
            await self._ctx.report_progress(text)

        return report

    async def _emit(self, event: ToolEvent) -> None:
        if self._on_event is None:
            return
        try:
            result = self._on_event(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("tool event callback failed on %s", type(event).__name__)


def _segments(runnables: list[_Runnable]) -> list[list[_Runnable]]:
    """Consecutive side-effect-free calls share a segment; a side-effecting call is alone."""
    segments: list[list[_Runnable]] = []
    for runnable in runnables:
        if runnable.tool.side_effects or not segments or segments[-1][-1].tool.side_effects:
            segments.append([runnable])
        else:
            segments[-1].append(runnable)
    return segments


def _immediate(call: ToolCall, status: OutcomeStatus, content: str) -> ToolOutcome:
    now = time.monotonic()
    return ToolOutcome(call.id, call.name, content, status, [], 0.0, now, now)


def _compact_errors(error: ValidationError) -> str:
    items = []
    for detail in error.errors(include_url=False):
        item: dict[str, Any] = {
            "loc": ".".join(str(part) for part in detail["loc"]) or "(arguments)",
            "msg": detail["msg"],
        }
        if detail["type"] != "missing":
            item["input"] = _preview(detail.get("input"))
        items.append(item)
    return json.dumps(items, ensure_ascii=False)


def _preview(value: Any) -> Any:
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= _INPUT_PREVIEW:
        return value
    return text[: _INPUT_PREVIEW - 3] + "..."


def _stop_message(name: str, last_problem: str | None) -> str:
    detail = f" Last problem: {last_problem}" if last_problem else ""
    return (
        f"Stop calling '{name}': it failed too many times in this turn. Do not call it again "
        f"now; tell the user what could not be done.{detail}"
    )


def _file_cap_message(name: str, cap: int, coming: int, need: int) -> str:
    return (
        f"Not run: one answer can carry at most {cap} files and this one already has {coming} "
        f"made or on their way, so '{name}' (up to {need} more) would not fit. Tell the user "
        "which files were not made and that they can ask for them in a new message."
    )


def _denied_message(name: str, reason: str) -> str:
    return (
        f"The tool '{name}' is not available here: {reason}. It was not run. Do not call it "
        "again; tell the user if it matters."
    )


def _timeout_message(tool: Tool) -> str:
    message = f"The tool '{tool.name}' did not finish within {tool.timeout:g} s and was stopped."
    if tool.side_effects:
        return f"{message} Its outcome is unknown; do not repeat it. Tell the user."
    return f"{message} Tell the user it timed out; try again only if the request needs it."


def _internal_error(tool: Tool, call: ToolCall) -> str:
    reference = uuid.uuid4().hex[:8]
    logger.exception("tool %s call %s raised (reference %s)", tool.name, call.id, reference)
    return (
        f"The tool '{tool.name}' failed with an internal error (reference {reference}). "
        "Tell the user it did not work; do not call it again for this request."
    )
