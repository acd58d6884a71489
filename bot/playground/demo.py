"""The offline demo: a scripted "model" on the OpenAI emulator and a fake Open-Meteo behind it.

``python -m bot playground --offline`` needs no key and no network: chat requests go to the OpenAI
emulator, whose default responder is :class:`DemoModel`. It answers like a small, predictable
model: a message that names a loaded tool ("use greet") calls it with arguments made up from its
schema, so an owner sees their own tool run; weather questions call the ``weather`` tool (the fake
Open-Meteo answers slowly, so the tool's progress line shows), "roll 2d20" calls ``roll_dice``,
"draw ..." calls ``generate_image`` when the config loads ``tools.images``, "long" gets a long
streamed answer with a code block, and an attached image is acknowledged. Anything else gets a short
guide to what to try, naming the loaded tools.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from bot.settings import Settings
from bot.testing.fakes import DEFAULT_PLACES, FakeOpenMeteo
from bot.testing.openai import OpenAIEmulator, TextReply, ToolCall, ToolCallsReply

DEMO_MODULES = ("tools.weather",)
OPTIONAL_MODULES = ("examples.dice",)
DEMO_KEY = "sk-playground-offline-demo-key"
TOOL_DELAY_S = 1.0
CHUNK_SIZE = 12
CHUNK_DELAY_S = 0.02
IMAGE_TOOLS = frozenset({"generate_image", "edit_image"})
TRANSCRIPT = "What's the weather in Oslo today?"
DEMO_NOTE = "-# Offline demo: a scripted model answered. Run without --offline to use your model."

GUIDE = """Hi! I'm running on the **offline demo model**, so my answers are scripted. Try:
- *"What's the weather in Paris?"* (calls the `weather` tool; watch its progress line)
- *"Roll 2d20"* (calls the `roll_dice` example tool)
- *"Draw a lighthouse at night"* (calls `generate_image`, when the images tools are loaded)
- *"Show me a long answer"* (a long streamed answer with a code block)
- *"Use <tool name>"* (calls any loaded tool with arguments made up from its schema)
- attach an image, reply to one of my messages, or run a `/command`"""

LONG_ANSWER = """## How a message reaches me
Here is the whole path, step by step, while this answer **streams** into Discord:

1. Discord delivers your message over the gateway; the chat cog decides that I should answer.
2. Your turn is stored first, keyed by its Discord id, so a replayed event never answers twice.
3. The context window is built from the store under a token budget, newest turns first.
4. The model streams; text deltas go to delivery, which edits one message at a paced rate.
5. Tool calls are validated against their schema, run concurrently, and every call is answered.

> Delivery splits long answers at 2,000 characters without breaking a code block, and
> mentions in model output never ping anyone.

```python
from tools import ToolContext, tool


@tool(progress="Rolling {count}d{sides}...")
async def roll_dice(ctx: ToolContext, sides: int = 6, count: int = 1) -> str:
    \"\"\"Roll dice for the user and report each die and the total.\"\"\"
    rolls = [random.randint(1, sides) for _ in range(count)]
    return f"Rolled {count}d{sides}: {rolls} (total {sum(rolls)})"
```

A typed tool is a plain async function: its signature becomes a strict JSON schema, its
docstring the description the model reads, and `ctx` tells it who asked and where.

### What the playground shows
- the guild, its channels, a thread and your DM, as the bot sees them;
- every edit of this message as it grows (*that is the streaming you are watching*);
- files that tools produce, like generated images, attached to the answer;
- slash commands and message menus, with their options;
- your messages as the bot receives them: mentions, replies, attachments and voice messages;
- ephemeral answers that only you can see, marked as such, exactly where Discord puts them.

### Testing it like this
The page talks to the same Discord emulator that toolcord's end-to-end tests use, through the real
discord.py client: what you see here is what a test can assert on, edit by edit, with no mocks.

### Try next
Ask *"What's the weather in Tokyo?"* to see a tool's progress line, or open the command
palette and run `/chat`. Everything you do here is stored in the normal conversation store, so
you can export it from the channel header."""


@dataclass
class DemoModel:
    """The default chat responder of the offline demo (a function of the chat request)."""

    chunk_size: int = CHUNK_SIZE
    chunk_delay_s: float = CHUNK_DELAY_S

    def __call__(self, request: Mapping[str, Any]) -> TextReply | ToolCallsReply:
        messages = request.get("messages") or []
        last = messages[-1] if messages else {}
        if last.get("role") == "tool":
            return self._text(_tool_summary(messages) + "\n\n" + DEMO_NOTE)
        text = _user_text(last.get("content"))
        tools = _tool_schemas(request)
        call = _tool_call_for(text, tools)
        if call is not None:
            return ToolCallsReply([call])
        if _has_image(last.get("content")):
            return self._text(_image_answer(last.get("content"), text))
        if re.search(r"\b(long|stream|code)\b", text, re.IGNORECASE):
            return self._text(LONG_ANSWER)
        return self._text(_guide(tools))

    def _text(self, content: str) -> TextReply:
        return TextReply(content, chunk_size=self.chunk_size, chunk_delay=self.chunk_delay_s)


def _user_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _has_image(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(part, dict) and part.get("type") == "image_url" for part in content
    )


def _image_answer(content: Any, text: str) -> str:
    count = sum(1 for part in content if isinstance(part, dict) and part.get("type") == "image_url")
    noun = "an image" if count == 1 else f"{count} images"
    return (
        f"I received {noun} with your message. A real vision model would describe "
        f"{'it' if count == 1 else 'them'} here; the demo model can only say that "
        f"{'it' if count == 1 else 'they'} arrived as image input.\n\n{DEMO_NOTE}"
    )


def _tool_schemas(request: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in request.get("tools") or []:
        function = entry.get("function") if isinstance(entry, dict) else None
        if isinstance(function, dict) and function.get("name"):
            found[str(function["name"])] = dict(function.get("parameters") or {})
    return found


def _guide(tools: Mapping[str, dict[str, Any]]) -> str:
    if not tools:
        return GUIDE
    names = ", ".join(f"`{name}`" for name in sorted(tools))
    return f"{GUIDE}\n\nTools loaded here: {names}."


def _named_tool(text: str, tools: Mapping[str, dict[str, Any]]) -> str | None:
    """The loaded tool the text names (``my_tool`` or ``my tool``), longest name first."""
    folded = text.casefold()
    for name in sorted(tools, key=len, reverse=True):
        spoken = name.casefold().replace("_", " ")
        if re.search(rf"(?<!\w)({re.escape(name.casefold())}|{re.escape(spoken)})(?!\w)", folded):
            return name
    return None


def _tool_call_for(text: str, tools: Mapping[str, dict[str, Any]]) -> ToolCall | None:
    lowered = text.lower()
    named = _named_tool(text, tools)
    if named is not None and named not in {"weather", "roll_dice"}:
        return ToolCall(named, fill_arguments(tools[named], text))
    if "weather" in tools and re.search(r"\b(weather|forecast|temperature)\b", lowered):
        return ToolCall("weather", {"place": _place_in(text), "units": "metric", "days": 2})
    if "roll_dice" in tools and re.search(r"\b(roll|dice|die)\b", lowered):
        count, sides = _dice_in(lowered)
        return ToolCall("roll_dice", {"sides": sides, "count": count})
    if "generate_image" in tools and re.search(
        r"\b(draw|paint|sketch)\b|\b(picture|image) of\b", lowered
    ):
        return ToolCall("generate_image", fill_arguments(tools["generate_image"], text))
    return None


def _place_in(text: str) -> str:
    folded = text.casefold()
    for place in DEFAULT_PLACES:
        if place.name.casefold() in folded:
            return place.name
    return "Paris"


def _dice_in(text: str) -> tuple[int, int]:
    match = re.search(r"(\d{1,2})?d(\d{1,4})", text)
    if match is None:
        return 2, 6
    count = min(max(int(match.group(1) or 1), 1), 20)
    sides = min(max(int(match.group(2)), 2), 1000)
    return count, sides


def fill_arguments(schema: Mapping[str, Any], text: str) -> dict[str, Any]:
    """Arguments for a tool from its JSON schema: the user's text for strings, else the smallest
    valid value (first enum member, minimum, empty list, None where null is allowed)."""
    return _object_for(schema, text, schema.get("$defs") or {})


def _object_for(spec: Mapping[str, Any], text: str, defs: Mapping[str, Any]) -> dict[str, Any]:
    properties = spec.get("properties") or {}
    return {
        name: _value_for(sub if isinstance(sub, dict) else {}, text, defs)
        for name, sub in properties.items()
    }


def _value_for(spec: Mapping[str, Any], text: str, defs: Mapping[str, Any]) -> Any:
    spec = _resolved(spec, defs)
    kinds = spec.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    variants = [_resolved(v, defs) for v in spec.get("anyOf") or [] if isinstance(v, dict)]
    if "null" in kinds or any(v.get("type") == "null" for v in variants):
        return None
    if variants:
        return _value_for(variants[0], text, defs)
    if "const" in spec:
        return spec["const"]
    if spec.get("enum"):
        return spec["enum"][0]
    if "integer" in kinds or "number" in kinds:
        return _number_for(spec, integer="integer" in kinds)
    if "boolean" in kinds:
        return False
    if "array" in kinds:
        items = spec.get("items")
        item: Mapping[str, Any] = items if isinstance(items, dict) else {}
        return [_value_for(item, text, defs) for _ in range(int(spec.get("minItems", 0)))]
    if "object" in kinds:
        return _object_for(spec, text, defs)
    return _string_for(spec, text)


def _resolved(spec: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = spec.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref.removeprefix("#/$defs/"))
        if isinstance(target, dict):
            return target
    return spec


def _number_for(spec: Mapping[str, Any], *, integer: bool) -> int | float:
    low = spec.get("minimum")
    if low is None and spec.get("exclusiveMinimum") is not None:
        low = spec["exclusiveMinimum"] + 1
    high = spec.get("maximum", spec.get("exclusiveMaximum"))
    value = low if low is not None else 1
    if high is not None and value > high:
        value = high if "maximum" in spec else high - 1
    return int(value) if integer else float(value)


def _string_for(spec: Mapping[str, Any], text: str) -> str:
    value = text.strip() or "something nice"
    longest = spec.get("maxLength")
    value = value[: int(longest)] if longest is not None else value[:1000]
    shortest = int(spec.get("minLength", 0))
    return value.ljust(shortest, ".")


def _tool_summary(messages: Sequence[Mapping[str, Any]]) -> str:
    names = _call_names(messages)
    results: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        name = names.get(str(message.get("tool_call_id")), "the tool")
        if name in IMAGE_TOOLS:
            results.append(f"Here is the picture `{name}` made for you; it is attached below.")
        else:
            results.append(f"Here is what `{name}` returned:\n{_quoted(message.get('content'))}")
    return "\n\n".join(reversed(results))


def _call_names(messages: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            names[str(call.get("id"))] = str(call.get("function", {}).get("name"))
    return names


def _quoted(content: Any) -> str:
    text = content if isinstance(content, str) else json.dumps(content)
    lines = [line for line in text.strip().splitlines() if line.strip()][:12]
    return "\n".join(f"> {line}" for line in lines) or "> (no output)"


class OfflineBackends:
    """The OpenAI emulator with the demo model and a slow fake Open-Meteo, on loopback."""

    def __init__(self, *, tool_delay_s: float = TOOL_DELAY_S) -> None:
        self.openai = OpenAIEmulator()
        self.open_meteo = FakeOpenMeteo()
        self._tool_delay_s = tool_delay_s

    async def start(self) -> OfflineBackends:
        await self.openai.start()
        await self.open_meteo.start()
        self.openai.chat.set_default(DemoModel())
        self.openai.transcriptions.default_text = TRANSCRIPT
        self.open_meteo.set_behavior("slow", delay_s=self._tool_delay_s)
        return self

    async def stop(self) -> None:
        await self.open_meteo.close()
        await self.openai.stop()

    def apply(self, settings: Settings) -> Settings:
        """``settings`` with the model server, key and demo tools pointed at these backends."""
        openai = settings.openai.model_copy(update={"base_url": self.openai.base_url})
        return settings.model_copy(
            update={
                "openai": openai,
                "openai_api_key": SecretStr(DEMO_KEY),
                "tools": self._tools(settings),
            }
        )

    def _tools(self, settings: Settings) -> Any:
        tools = settings.tools
        modules = list(dict.fromkeys([*tools.modules, *DEMO_MODULES, *_importable()]))
        weather = {
            **tools.config.get("weather", {}),
            "geocoding_url": self.open_meteo.base_url,
            "forecast_url": self.open_meteo.base_url,
        }
        enabled = tools.enabled
        if enabled is not None:
            enabled = list(dict.fromkeys([*enabled, "weather", "roll_dice"]))
        return tools.model_copy(
            update={
                "modules": modules,
                "config": {**tools.config, "weather": weather},
                "enabled": enabled,
            }
        )


def _importable() -> list[str]:
    """The optional demo tool modules that import cleanly here."""
    found = []
    for module in OPTIONAL_MODULES:
        try:
            importlib.import_module(module)
        except Exception:  # a module that fails to import is left out of the demo
            continue
        found.append(module)
    return found
