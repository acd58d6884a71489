"""Assert on a tool call the model made through the OpenAI emulator: what did the tool answer?

```python
openai_emulator.chat.reply_tool_calls([ToolCall("greet", {"name": "Ada"}, id="call_1")])
openai_emulator.chat.reply_text("Done.")
...  # the user asks, the bot answers "Done."
assert tool_result(openai_emulator, "call_1") == "Hello, Ada!"
```
"""

from __future__ import annotations

from bot.testing.openai import OpenAIEmulator


def tool_result(openai_emulator: OpenAIEmulator, call_id: str) -> str:
    """The content of the tool message the bot sent back to the model for ``call_id``.

    Raises:
        AssertionError: No request to the emulator carried a result for ``call_id`` (the message
            lists the call ids that were answered, and the tools the model was offered).
    """
    answered: list[str] = []
    offered: set[str] = set()
    for request in openai_emulator.chat.requests:
        offered.update(tool["function"]["name"] for tool in request.get("tools") or [])
        for message in request.get("messages", []):
            if message.get("role") != "tool":
                continue
            if message.get("tool_call_id") == call_id:
                return str(message.get("content"))
            answered.append(str(message.get("tool_call_id")))
    raise AssertionError(
        f"the bot sent no result for tool call {call_id!r} to the model (results sent for: "
        f"{sorted(set(answered)) or 'none'}; tools offered: {sorted(offered) or 'none'})"
    )
