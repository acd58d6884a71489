"""The scripted model for the benchmarks: toolcord's OpenAI emulator in its own process.

``python -m tests.bench.model_server --mode text|tool|stream [--latency S]`` prints
``model-server-ready <base_url>`` and answers every chat completion at once (or after
``--latency``), on ``/v1/chat/completions`` and ``/v1/responses`` alike:

- ``text``: a short text answer;
- ``tool``: a call of the instant ``roll_dice`` tool, then (once the request carries the tool
  result) a short text answer;
- ``stream``: a streamed answer in several chunks, ``CHUNK_DELAY_S`` apart (the first content chunk
  comes ``CHUNK_DELAY_S`` after the role chunk); for each request it prints
  ``first-chunk <monotonic seconds>``, the earliest moment that chunk can leave (the emulator's own
  rendering only makes it later, so the bot is charged for it: a conservative figure).
  ``time.monotonic`` is one clock for every process on Linux.

Request and response validation are off: they are the test kit's work, not the bot's.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time
from typing import Any

from bot.testing.openai import OpenAIEmulator, TextReply, ToolCall, ToolCallsReply

READY_MARKER = "model-server-ready"
FIRST_CHUNK_MARKER = "first-chunk"
REPLY_TEXT = "Sure, here you go."
TOOL_ANSWER = "You rolled a 4."
STREAM_TEXT = " ".join(
    ["Streaming answers show up in Discord while the model still writes them."] * 3
)
STREAM_CHUNK_CHARS = 40
CHUNK_DELAY_S = 0.1


def text_reply(latency: float) -> TextReply:
    return TextReply(REPLY_TEXT, latency=latency)


def tool_round(latency: float) -> Any:
    """Call the dice tool first; answer in text once the tool result is in the request."""

    def respond(request: dict[str, Any]) -> TextReply | ToolCallsReply:
        last = (request.get("messages") or request.get("input") or [{}])[-1]
        if last.get("role") == "tool" or last.get("type") == "function_call_output":
            return TextReply(TOOL_ANSWER, latency=latency)
        return ToolCallsReply([ToolCall("roll_dice", {"sides": 6, "count": 1})], latency=latency)

    return respond


def streamed() -> Any:
    """A streamed answer; prints when its first content chunk is due."""

    def respond(request: dict[str, Any]) -> TextReply:
        due = time.monotonic() + CHUNK_DELAY_S
        print(f"{FIRST_CHUNK_MARKER} {due:.6f}", flush=True)
        return TextReply(STREAM_TEXT, chunk_size=STREAM_CHUNK_CHARS, chunk_delay=CHUNK_DELAY_S)

    return respond


async def serve(mode: str, latency: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with OpenAIEmulator(validate_requests=False, validate_responses=False) as emulator:
        for script in (emulator.chat, emulator.responses):  # either dialect
            script.chunk_size = 1_000
            if mode == "text":
                script.set_default(text_reply(latency))
            elif mode == "tool":
                script.set_default(tool_round(latency))
            else:
                script.set_default(streamed())
        print(f"{READY_MARKER} {emulator.base_url}", flush=True)
        await stop.wait()


def main() -> None:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("text", "tool", "stream"), default="text")
    parser.add_argument("--latency", type=float, default=0.0)
    options = parser.parse_args()
    asyncio.run(serve(options.mode, options.latency))


if __name__ == "__main__":
    main()
