"""The OpenAI emulator of toolcord's test kit: a loopback OpenAI API for the real ``openai`` client.

Quick tour::

    from bot.testing.openai import Fault, OpenAIEmulator, ToolCall

    async with OpenAIEmulator() as emu:
        client = AsyncOpenAI(api_key="sk-test", base_url=emu.base_url, max_retries=2)
        emu.chat.reply_text("Hello!", chunk_size=8)                       # next chat answer
        emu.chat.reply_tool_calls([ToolCall("weather", {"place": "Paris"})])
        emu.chat.reply(lambda request: TextReply(f"{len(request['messages'])} messages"))
        emu.chat.reply_fault(Fault.rate_limit(retry_after=0.1, times=2))  # 429, 429, then a reply
        emu.responses.reply_tool_calls([ToolCall("weather", {"place": "Paris"})])  # /v1/responses
        mark = emu.mark()
        ...                                                              # code under test
        request = await emu.wait_request("/v1/chat/completions", after=mark, timeout=10)
        assert emu.retry_counts("/v1/chat/completions", after=mark) == [0, 1, 2]
        emu.assert_no_violations()

Server profiles: ``OpenAIEmulator(profile="ollama")`` or ``emu.chat.use_profile("vllm")`` make the
chat route stream and refuse parameters like that OpenAI-compatible server (``profiles.py``).

Routes: ``/v1/chat/completions`` (JSON and SSE), ``/v1/responses`` (JSON and named SSE events;
``emu.responses``, see ``responses_script.py``), ``/v1/images/generations``, ``/v1/images/edits``,
``/v1/moderations``, ``/v1/audio/transcriptions``, ``/v1/audio/speech``, ``/v1/embeddings``,
``/v1/models``, and the Realtime WebSocket ``/v1/realtime`` (``emu.realtime``). Every request
body and Realtime client event is validated against OpenAI's OpenAPI schema (vendored subset in
``bot/testing/schemas``); an invalid one gets OpenAI's 400 (or ``error`` event) and lands in
``emu.violations``.

OpenAI's model rules are enforced too (``rules.py``, the table bot authors meet in tests): on
``/v1/chat/completions``, function tools with reasoning get OpenAI's exact 400 for the gpt-5.4/5.5
families (any effort but ``none``) and for gpt-5.6 and later (any effort but ``none``, including
none given, because they reason by default); ``/v1/responses`` accepts tools with any effort.
"""

from .errors import ApiError
from .faults import Fault
from .multipart import UploadedFile
from .profiles import PROFILES, ParamRefusal, ServerProfile, profile_named
from .recorder import RecordedRequest
from .replies import (
    MODERATION_CATEGORIES,
    EmbeddingReply,
    ImageReply,
    ModerationReply,
    RealtimeReply,
    RefusalReply,
    SpeechReply,
    TextReply,
    ToolCall,
    ToolCallsReply,
    TranscriptionReply,
)
from .responses_replies import Citation, FailedReply, StreamErrorReply, WebSearchReply
from .responses_script import ResponsesScript
from .script import RouteScript
from .server import OpenAIEmulator
from .summarizer import ScriptedSummarizer
from .validation import SchemaIssue, Violation

__all__ = [
    "MODERATION_CATEGORIES",
    "PROFILES",
    "ApiError",
    "Citation",
    "EmbeddingReply",
    "FailedReply",
    "Fault",
    "ImageReply",
    "ModerationReply",
    "OpenAIEmulator",
    "ParamRefusal",
    "RealtimeReply",
    "RecordedRequest",
    "RefusalReply",
    "ResponsesScript",
    "RouteScript",
    "SchemaIssue",
    "ScriptedSummarizer",
    "ServerProfile",
    "SpeechReply",
    "StreamErrorReply",
    "TextReply",
    "ToolCall",
    "ToolCallsReply",
    "TranscriptionReply",
    "UploadedFile",
    "Violation",
    "WebSearchReply",
    "profile_named",
]
