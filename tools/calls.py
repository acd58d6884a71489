"""The data that flows through dispatch: calls in, outcomes and progress events out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from tools.context import Artifact

OutcomeStatus: TypeAlias = Literal[
    "ok",
    "invalid_json",
    "invalid_arguments",
    "unknown_tool",
    "denied",
    "error",
    "timeout",
    "budget_exhausted",
    "skipped_duplicate",
]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call as the model sent it.

    Attributes:
        id: The ``tool_call_id`` the result must answer.
        name: The function name the model called.
        arguments: The raw JSON argument string, unparsed.
    """

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """The answer to one tool call; ``content`` is the ``role: tool`` message text.

    Attributes:
        call_id: The call this answers.
        name: The tool name the model called.
        content: Text for the model (always model-safe).
        status: What happened (``ok`` or why not).
        artifacts: Files this call produced, for the bot to attach; its images are also shown
            to the model in its next round (``images_for_model``).
        duration_s: Run time in seconds (0 when the tool never ran).
        started_at: ``time.monotonic()`` when the call started (or was answered).
        finished_at: ``time.monotonic()`` when it finished.
    """

    call_id: str
    name: str
    content: str
    status: OutcomeStatus
    artifacts: list[Artifact] = field(default_factory=list)
    duration_s: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the tool ran and succeeded."""
        return self.status == "ok"

    @property
    def images_for_model(self) -> list[Artifact]:
        """The images this call returned that a model which sees images is shown next round."""
        return [item for item in self.artifacts if item.is_image and item.show_model]

    def as_message(self) -> dict[str, str]:
        """The Chat Completions ``tool`` message answering this call."""
        return {"role": "tool", "tool_call_id": self.call_id, "content": self.content}


@dataclass(frozen=True, slots=True)
class ToolStarted:
    """A call passed validation and its tool started running."""

    call: ToolCall
    progress_text: str


@dataclass(frozen=True, slots=True)
class ToolProgress:
    """A running tool reported progress via ``ctx.report_progress``."""

    call: ToolCall
    text: str


@dataclass(frozen=True, slots=True)
class ToolFinished:
    """A call got its outcome (also sent for calls that never ran, e.g. denied)."""

    outcome: ToolOutcome


ToolEvent: TypeAlias = ToolStarted | ToolProgress | ToolFinished
EventCallback: TypeAlias = Callable[[ToolEvent], Awaitable[None] | None]
