"""Server profiles: how popular OpenAI-compatible servers really stream and what they refuse.

``OpenAIEmulator(profile="ollama")`` (or ``emu.chat.profile = profile_named("vllm")``) makes the
chat route behave like that server: its tool-call deltas, finish reason, usage chunk, reasoning
field, and its HTTP 400 for parameters it does not accept (in that server's error shape). Each quirk
is documented by the server's own issue tracker or a client's fix with captured output; the sources
are named on each profile (``ServerProfile.sources``).

A profile shapes what the emulator *sends*; it never makes the emulator accept what OpenAI's schema
refuses. Chunks of a non-OpenAI profile are not checked against OpenAI's response schema (a missing
``index`` is the point of the ``ollama-legacy`` profile).

Profiles (defaults as OpenAI: ``index`` and ``id`` on tool-call deltas, arguments streamed in
pieces, ``finish_reason: "tool_calls"``, usage when asked, reasoning in ``reasoning_content``):

* ``openai``: OpenAI itself (its chunks are checked against OpenAI's schema);
* ``ollama``: ``index: 0`` for every call, whole calls, ``stop`` on tool turns, ``reasoning``;
* ``ollama-legacy``: no ``index`` at all, whole calls, ``stop`` on tool turns, ``reasoning``;
* ``vllm``: no ``id`` on tool-call deltas, ``reasoning``;
* ``llamacpp``: as OpenAI, reasoning in ``reasoning_content``;
* ``llamacpp-think``: reasoning left in ``content`` between ``<think>`` tags;
* ``lmstudio``: whole calls, never a usage chunk, ``reasoning``;
* ``openrouter``: ``reasoning``;
* ``groq-2024``: 400 for ``stream_options`` and ``max_completion_tokens`` (Groq's error shape);
* ``strict-refusing``: 400 for ``strict`` in ``tools[].function`` (relays without Structured
  Outputs);
* ``azure-2024``: 400 for ``parallel_tool_calls``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

CallIndex = Literal["sequential", "zero", "absent"]
ReasoningField = Literal["reasoning_content", "reasoning", "think_tags"]


@dataclass(frozen=True)
class ParamRefusal:
    """A request parameter the server answers with HTTP 400.

    Attributes:
        param: ``stream_options``, ``max_completion_tokens``, ``parallel_tool_calls`` (top-level
            keys) or ``strict`` (inside any ``tools[].function``).
        error: The JSON body the server sends back, exactly (``{"error": {...}}``).
    """

    param: str
    error: Mapping[str, Any]

    def applies(self, body: Mapping[str, Any]) -> bool:
        """Whether ``body`` carries the refused parameter."""
        if self.param == "strict":
            tools = body.get("tools") or []
            return any(
                isinstance(tool, dict)
                and isinstance(tool.get("function"), dict)
                and "strict" in tool["function"]
                for tool in tools
            )
        return self.param in body


@dataclass(frozen=True)
class ServerProfile:
    """How one server streams chat completions; see the module table.

    Attributes:
        name: The profile's name (``profile_named`` key).
        sources: Public reports that document each quirk (issue or pull request URLs).
        call_index: ``sequential`` (0, 1, ... as OpenAI), ``zero`` (every call says 0) or
            ``absent`` (no ``index`` key).
        call_ids: Whether tool-call deltas carry an ``id``.
        whole_calls: Each tool call comes in one delta, arguments complete.
        tool_finish_reason: The ``finish_reason`` of a turn that calls tools.
        usage: Whether ``stream_options.include_usage`` gets the final usage chunk.
        reasoning_field: Where reasoning goes: a delta field, or ``<think>`` tags in content.
        refuses: Parameters answered with HTTP 400, first match wins.
    """

    name: str
    sources: tuple[str, ...] = ()
    call_index: CallIndex = "sequential"
    call_ids: bool = True
    whole_calls: bool = False
    tool_finish_reason: Literal["tool_calls", "stop"] = "tool_calls"
    usage: bool = True
    reasoning_field: ReasoningField = "reasoning_content"
    refuses: tuple[ParamRefusal, ...] = ()

    @property
    def is_openai(self) -> bool:
        """Whether this is OpenAI's own behaviour (its chunks are schema-checked)."""
        return self.name == "openai"

    def refusal_for(self, body: Mapping[str, Any]) -> ParamRefusal | None:
        """The first refusal that ``body`` triggers, or None."""
        return next((refusal for refusal in self.refuses if refusal.applies(body)), None)


def _groq_error(message: str) -> dict[str, Any]:
    # Groq's shape in the captured responses: message and type, no param, no code.
    return {"error": {"message": message, "type": "invalid_request_error"}}


OPENAI = ServerProfile("openai")

OLLAMA = ServerProfile(
    "ollama",
    sources=(
        # every call of a turn streams with index 0 (distinct ids)
        "https://github.com/ollama/ollama/issues/15457",
        "https://github.com/ollama/ollama/issues/15497",
        # whole calls, finish_reason "stop" on tool-call turns when streaming
        "https://github.com/ollama/ollama/pull/7963",
        "https://github.com/earendil-works/pi/pull/1125",
        # thinking streamed as delta.reasoning (raw SSE from Ollama 0.34.2)
        "https://github.com/dirac-run/dirac/pull/227",
    ),
    call_index="zero",
    whole_calls=True,
    tool_finish_reason="stop",
    reasoning_field="reasoning",
)

OLLAMA_LEGACY = ServerProfile(
    "ollama-legacy",
    sources=(
        # before v0.4.7: streamed tool calls without an index at all
        "https://github.com/ollama/ollama/issues/7881",
        "https://github.com/ollama/ollama/pull/7963",
    ),
    call_index="absent",
    whole_calls=True,
    tool_finish_reason="stop",
    reasoning_field="reasoning",
)

VLLM = ServerProfile(
    "vllm",
    sources=(
        # tool_calls[].id missing in streaming responses
        "https://github.com/vllm-project/vllm/issues/18412",
        # recent vLLM streams reasoning as delta.reasoning
        "https://github.com/BerriAI/litellm/pull/24019",
        "https://github.com/azrtydxb/Fastllm-proxy/issues/23",
    ),
    call_ids=False,
    reasoning_field="reasoning",
)

LLAMACPP = ServerProfile(
    "llamacpp",
    sources=(
        # reasoning_content unless --reasoning-format none; tool calls streamed with --jinja
        "https://github.com/ggml-org/llama.cpp/pull/11607",
        "https://github.com/ggml-org/llama.cpp/pull/12379",
        "https://github.com/openai-php/client/issues/780",
    ),
)

LLAMACPP_THINK = ServerProfile(
    "llamacpp-think",
    sources=(
        # --reasoning-format none (or a template without markers): <think> stays in content
        "https://github.com/ggml-org/llama.cpp/pull/11607",
        "https://github.com/ggml-org/llama.cpp/issues/25292",
    ),
    reasoning_field="think_tags",
)

LMSTUDIO = ServerProfile(
    "lmstudio",
    sources=(
        # no usage in streaming mode, stream_options ignored
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/676",
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/713",
        # complete tool-call arguments in one chunk
        "https://github.com/lmstudio-ai/lmstudio-bug-tracker/issues/1868",
        # reasoning field (gpt-oss convention)
        "https://github.com/dataease/SQLBot/pull/787",
    ),
    whole_calls=True,
    usage=False,
    reasoning_field="reasoning",
)

OPENROUTER = ServerProfile(
    "openrouter",
    sources=(
        "https://github.com/Aider-AI/aider/issues/3086",
        "https://github.com/api7/aisix/pull/507",
    ),
    reasoning_field="reasoning",
)

GROQ_2024 = ServerProfile(
    "groq-2024",
    sources=(
        # "property 'stream_options' is unsupported, did you mean 'stream'?" (HTTP 400)
        "https://github.com/vercel/ai/pull/1578",
        # "property 'max_completion_tokens' is unsupported, did you mean 'max_tokens'?"
        "https://github.com/tmc/langchaingo/issues/1028",
        "https://github.com/AnswerDotAI/shell_sage/issues/9",
    ),
    reasoning_field="reasoning",
    refuses=(
        ParamRefusal(
            "stream_options",
            _groq_error("property 'stream_options' is unsupported, did you mean 'stream'?"),
        ),
        ParamRefusal(
            "max_completion_tokens",
            _groq_error(
                "property 'max_completion_tokens' is unsupported, did you mean 'max_tokens'?"
            ),
        ),
    ),
)

STRICT_REFUSING = ServerProfile(
    "strict-refusing",
    sources=(
        # Upstage Solar, DeepSeek and relays without Structured Outputs
        "https://github.com/Zoo-Code-Org/Zoo-Code/issues/1036",
        "https://github.com/earendil-works/pi/issues/1172",
    ),
    refuses=(
        ParamRefusal(
            "strict",
            {
                "error": {
                    "message": "Invalid value: 'true'. The value 'true' isn't supported yet. "
                    "For now, please use 'false' for this setting.",
                    "type": "invalid_request_error",
                    "param": "tools[0].function.strict",
                    "code": "invalid_value",
                }
            },
        ),
    ),
)

AZURE_2024 = ServerProfile(
    "azure-2024",
    sources=("https://github.com/Azure/azure-rest-api-specs/issues/29545",),
    refuses=(
        ParamRefusal(
            "parallel_tool_calls",
            {
                "error": {
                    "message": "Unrecognized request argument supplied: parallel_tool_calls. "
                    "Please contact us through an Azure support request at: "
                    "https://go.microsoft.com/fwlink/?linkid=2213926 for further questions.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
    ),
)

PROFILES: dict[str, ServerProfile] = {
    profile.name: profile
    for profile in (
        OPENAI,
        OLLAMA,
        OLLAMA_LEGACY,
        VLLM,
        LLAMACPP,
        LLAMACPP_THINK,
        LMSTUDIO,
        OPENROUTER,
        GROQ_2024,
        STRICT_REFUSING,
        AZURE_2024,
    )
}


def profile_named(profile: str | ServerProfile) -> ServerProfile:
    """The profile called ``profile`` (a profile is returned as it is).

    Raises:
        ValueError: No profile has that name (the message lists them).
    """
    if isinstance(profile, ServerProfile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(
            f"unknown OpenAI emulator profile {profile!r}; use one of {sorted(PROFILES)} "
            "or a ServerProfile"
        ) from None
