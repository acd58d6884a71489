"""How much load each phase runs: ``QUICK`` (under 3 minutes on 2 cores) and ``FULL``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    """Turn counts per phase.

    Attributes:
        warmup: round trips before each measured phase (connections, caches, JIT-free Python).
        sequential: round trips one at a time.
        pipelined: round trips with ``in_flight`` conversations at once.
        in_flight: conversations in flight in the pipelined phase.
        turns_per_conversation: turns each conversation gets in a phase (the phases spread
            their turns over enough channels), so windows hold a realistic, bounded history
            whatever the counts.
        tool_sequential: tool rounds one at a time.
        concurrency: conversations answered at once with a 1 s model.
        memory_conversations: conversations for the memory growth figure.
        first_text_samples: streamed answers timed for the first visible text.
        context_repeats: window builds timed per history size.
    """

    warmup: int
    sequential: int
    pipelined: int
    tool_sequential: int
    memory_conversations: int
    first_text_samples: int
    context_repeats: int
    in_flight: int = 32
    turns_per_conversation: int = 16
    concurrency: int = 500


QUICK = Counts(
    warmup=100,
    sequential=1000,
    pipelined=2000,
    tool_sequential=500,
    memory_conversations=1000,
    first_text_samples=8,
    context_repeats=7,
)
FULL = Counts(
    warmup=300,
    sequential=3000,
    pipelined=6000,
    tool_sequential=1500,
    memory_conversations=3000,
    first_text_samples=40,
    context_repeats=15,
)
SMOKE = Counts(
    warmup=2,
    sequential=4,
    pipelined=8,
    tool_sequential=3,
    memory_conversations=8,
    first_text_samples=2,
    context_repeats=1,
    in_flight=4,
    turns_per_conversation=2,
    concurrency=8,
)
