"""Issue 15: the same bot on both wire dialects (Responses API and Chat Completions).

Each scenario runs twice (parametrized): ``openai.api_dialect`` set to ``"responses"`` (the
setting that tells the bot the server is OpenAI's own) and to ``"chat"``. What reached the emulator
is read in each dialect's own shape: ``input`` items on ``/v1/responses``, ``messages`` on chat.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest

from bot.render import render_reply
from bot.testing.discord import DiscordEmulator, StoredMessage
from bot.testing.fakes import FakeOpenMeteo
from bot.testing.harness import BotHarness
from bot.testing.openai import (
    Citation,
    FailedReply,
    Fault,
    OpenAIEmulator,
    RouteScript,
    ToolCall,
)

from .conftest import ask

DIALECTS = ("responses", "chat")
UNAVAILABLE = "The AI service is not responding right now. Please try again shortly."
TERRA = "gpt-5.6-terra"
TERRA_REFUSAL = (
    "Function tools with reasoning_effort are not supported for gpt-5.6-terra in "
    "/v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to "
    "'none'."
)


@pytest.fixture
async def open_meteo() -> AsyncIterator[FakeOpenMeteo]:
    async with FakeOpenMeteo() as server:
        yield server


def _script(emu: OpenAIEmulator, dialect: str) -> RouteScript[Any]:
    return emu.responses if dialect == "responses" else emu.chat


def _weather(open_meteo: FakeOpenMeteo) -> dict[str, Any]:
    config = {"geocoding_url": open_meteo.base_url, "forecast_url": open_meteo.base_url}
    return {"modules": ["tools.weather"], "config": {"weather": config}}


def _outputs(request: dict[str, Any]) -> dict[str, str]:
    """Tool results by call id, in either dialect."""
    if "input" in request:
        return {
            i["call_id"]: i["output"]
            for i in request["input"]
            if i.get("type") == "function_call_output"
        }
    return {m["tool_call_id"]: m["content"] for m in request["messages"] if m["role"] == "tool"}


def _calls(request: dict[str, Any]) -> list[str]:
    """The call ids the model made earlier, in either dialect."""
    if "input" in request:
        return [i["call_id"] for i in request["input"] if i.get("type") == "function_call"]
    return [c["id"] for m in request["messages"] for c in m.get("tool_calls") or ()]


def _texts(request: dict[str, Any]) -> list[str]:
    """Every message text of the request (instructions and system messages included)."""
    items = request.get("input", request.get("messages"))
    texts = [str(request.get("instructions") or "")]
    for item in items:
        content = item.get("content")
        if isinstance(content, list):
            texts.append(" ".join(str(part.get("text", "")) for part in content))
        elif content is not None:
            texts.append(str(content))
    return texts


async def _answer(
    emu: DiscordEmulator, text: str, after: StoredMessage | None = None
) -> StoredMessage:
    general = emu.channel("general")
    return await emu.wait_for_message(general, lambda m: m.content == text, after=after, timeout=30)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_mention_is_answered(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    dialect: str,
) -> None:
    _script(openai_emulator, dialect).reply_text("Hello Alice!")
    async with bot_harness.run(openai={"api_dialect": dialect}) as bot:
        await ask(discord_emulator, "hi there")
        await _answer(discord_emulator, "Hello Alice!")
    (request,) = _script(openai_emulator, dialect).requests
    other = openai_emulator.chat if dialect == "responses" else openai_emulator.responses
    assert other.attempts == 0
    if dialect == "responses":
        assert request["instructions"] == bot.settings.chat.system_prompt
        assert request["store"] is False
        assert request["input"][-1]["role"] == "user"
    assert "hi there" in _texts(request)[-1]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_one_tool_round_then_two_parallel_calls(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
    dialect: str,
) -> None:
    script = _script(openai_emulator, dialect)
    script.reply_tool_calls([ToolCall("weather", {"place": "Paris"}, id="call_one")])
    script.reply_text("Paris: sunny.")
    script.reply_tool_calls(
        [
            ToolCall("weather", {"place": "Paris"}, id="call_p"),
            ToolCall("weather", {"place": "Oslo"}, id="call_o"),
        ]
    )
    script.reply_text("Both: see above.")
    async with bot_harness.run(openai={"api_dialect": dialect}, tools=_weather(open_meteo)):
        await ask(discord_emulator, "weather in Paris?")
        first = await _answer(discord_emulator, "Paris: sunny.")
        await ask(discord_emulator, "and Paris and Oslo?")
        await _answer(discord_emulator, "Both: see above.", after=first)
    requests = script.requests
    assert len(requests) == 4
    assert list(_outputs(requests[1])) == ["call_one"]
    assert "Paris" in _outputs(requests[1])["call_one"]
    parallel = _outputs(requests[3])
    assert list(parallel) == ["call_one", "call_p", "call_o"]  # the first turn's round kept
    assert "Oslo" in parallel["call_o"]
    assert len(open_meteo.requests_to("/v1/search")) == 3


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_tool_error_is_fed_back_to_the_model(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
    dialect: str,
) -> None:
    script = _script(openai_emulator, dialect)
    script.reply_tool_calls([ToolCall("weather", {"place": "Atlantis"}, id="call_x")])
    script.reply_text("I could not find Atlantis.")
    async with bot_harness.run(openai={"api_dialect": dialect}, tools=_weather(open_meteo)):
        await ask(discord_emulator, "weather in Atlantis?")
        await _answer(discord_emulator, "I could not find Atlantis.")
    result = _outputs(script.requests[1])["call_x"]
    assert "No place called 'Atlantis'" in result


@pytest.mark.parametrize(
    ("dialect", "failure"),
    [
        ("responses", Fault.outage(500)),
        ("chat", Fault.outage(500)),
        ("responses", FailedReply(partial_text="Half an")),  # response.failed mid-stream
    ],
    ids=["responses-500", "chat-500", "responses-failed-event"],
)
async def test_a_model_failure_ends_in_a_visible_message(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    dialect: str,
    failure: Any,
) -> None:
    _script(openai_emulator, dialect).reply(failure)
    general = discord_emulator.channel("general")
    async with bot_harness.run(openai={"api_dialect": dialect}):
        await ask(discord_emulator, "hello?")
        await discord_emulator.wait_for_message(
            general, lambda m: UNAVAILABLE in m.content, timeout=30
        )


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_restart_continues_the_conversation(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    dialect: str,
) -> None:
    script = _script(openai_emulator, dialect)
    script.reply_text("Nice to meet you, Alice.")
    async with bot_harness.run(openai={"api_dialect": dialect}):
        await ask(discord_emulator, "my name is Alice")
        first = await _answer(discord_emulator, "Nice to meet you, Alice.")
    script.reply_text("You told me: Alice.")
    async with bot_harness.run(openai={"api_dialect": dialect}):
        await ask(discord_emulator, "what is my name?")
        await _answer(discord_emulator, "You told me: Alice.", after=first)
    texts = _texts(script.requests[1])
    assert any("my name is Alice" in text for text in texts)
    assert "Nice to meet you, Alice." in texts
    assert "what is my name?" in texts[-1]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_window_trimming_keeps_calls_with_their_outputs(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    dialect: str,
) -> None:
    script = _script(openai_emulator, dialect)
    general = discord_emulator.channel("general")
    async with bot_harness.run(
        openai={"api_dialect": dialect, "context_tokens": 1000},
        tools={"modules": ["examples.dice"]},
    ):
        for n in range(6):
            script.reply_tool_calls(
                [
                    ToolCall("roll_dice", {"sides": 6, "count": 3}, id=f"call_{n}_a"),
                    ToolCall("roll_dice", {"sides": 20, "count": 1}, id=f"call_{n}_b"),
                ]
            )
            script.reply_text(f"round {n} done " + "filler " * 40)
            await ask(discord_emulator, f"roll round {n} " + "please " * 30)
            await discord_emulator.wait_for_message(
                general, lambda m, n=n: m.content.startswith(f"round {n} done"), timeout=20
            )
    requests = script.requests
    assert len(requests) == 12
    for request in requests:  # every call answered, every output answering a call
        assert sorted(_calls(request)) == sorted(_outputs(request))
    firsts = requests[::2]
    assert len(_calls(firsts[-1])) < 2 * 5, "the budget must have trimmed the history"
    assert any(_calls(request) for request in firsts[1:]), "an earlier round must still fit"


# ---- the headline: gpt-5.6-terra ----------------------------------------------------------


async def test_terra_answers_a_weather_question_on_the_responses_dialect(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
) -> None:
    script = openai_emulator.responses
    script.reply_tool_calls([ToolCall("weather", {"place": "Paris"}, id="call_w")])
    script.reply_text("Paris is sunny today.")
    openai = {"chat_model": TERRA, "api_dialect": "responses"}
    async with bot_harness.run(openai=openai, tools=_weather(open_meteo)):
        await ask(discord_emulator, "what's the weather in Paris?")
        await _answer(discord_emulator, "Paris is sunny today.")
    first, second = script.requests
    assert first["model"] == TERRA and "reasoning" not in first  # the model's own default
    assert first["include"] == ["reasoning.encrypted_content"]
    reasoning = [i for i in second["input"] if i.get("type") == "reasoning"]
    assert len(reasoning) == 1 and reasoning[0]["encrypted_content"]
    kinds = [i.get("type", "message") for i in second["input"]]
    assert kinds[-3:] == ["reasoning", "function_call", "function_call_output"]
    assert openai_emulator.chat.attempts == 0


async def test_terra_answers_on_the_chat_dialect_with_effort_none(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
) -> None:
    script = openai_emulator.chat
    script.reply_tool_calls([ToolCall("weather", {"place": "Paris"}, id="call_w")])
    script.reply_text("Paris is sunny today.")
    openai = {"chat_model": TERRA, "api_dialect": "chat"}
    async with bot_harness.run(openai=openai, tools=_weather(open_meteo)):
        await ask(discord_emulator, "what's the weather in Paris?")
        await _answer(discord_emulator, "Paris is sunny today.")
    assert [r["reasoning_effort"] for r in script.requests] == ["none", "none"]
    assert "Paris" in _outputs(script.requests[1])["call_w"]


async def test_the_emulator_refuses_what_a_naive_client_sends(
    openai_emulator: OpenAIEmulator,
) -> None:
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=openai_emulator.base_url, max_retries=0)
    tool = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}
    try:
        with pytest.raises(openai.BadRequestError) as caught:
            await client.chat.completions.create(
                model=TERRA,
                messages=[{"role": "user", "content": "weather in Paris?"}],
                tools=[tool],  # type: ignore[list-item]
            )
    finally:
        await client.close()
    assert caught.value.status_code == 400
    assert caught.value.body == {
        "message": TERRA_REFUSAL,
        "type": "invalid_request_error",
        "param": "reasoning_effort",
        "code": None,
    }


async def test_the_same_bot_on_chat_with_a_base_url_keeps_working(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
) -> None:
    # The harness points base_url at the emulator: "auto" speaks chat to a non-OpenAI server.
    openai_emulator.chat.reply_text("Still here.")
    async with bot_harness.run(openai={"chat_model": TERRA}, tools=_weather(open_meteo)) as bot:
        assert bot.settings.openai.api_dialect == "auto"
        await ask(discord_emulator, "hello?")
        await _answer(discord_emulator, "Still here.")
    assert openai_emulator.responses.attempts == 0
    assert openai_emulator.chat.requests[0]["reasoning_effort"] == "none"


@pytest.mark.parametrize(("first", "then"), [("responses", "chat"), ("chat", "responses")])
async def test_a_conversation_continues_on_the_other_dialect(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
    first: str,
    then: str,
) -> None:
    before, after = _script(openai_emulator, first), _script(openai_emulator, then)
    before.reply_tool_calls([ToolCall("weather", {"place": "Paris"}, id="call_w")])
    before.reply_text("Paris is sunny today.")
    tools = _weather(open_meteo)
    async with bot_harness.run(openai={"chat_model": TERRA, "api_dialect": first}, tools=tools):
        await ask(discord_emulator, "what's the weather in Paris?")
        answer = await _answer(discord_emulator, "Paris is sunny today.")
    after.reply_text("You asked about Paris.")
    async with bot_harness.run(openai={"chat_model": TERRA, "api_dialect": then}, tools=tools):
        await ask(discord_emulator, "what did I ask?")
        await _answer(discord_emulator, "You asked about Paris.", after=answer)
    (request,) = after.requests
    texts = _texts(request)
    assert any("what's the weather in Paris?" in text for text in texts)
    assert "Paris is sunny today." in texts
    assert _calls(request) == ["call_w"] and list(_outputs(request)) == ["call_w"]
    if then == "chat":
        assert all("_reasoning" not in m for m in request["messages"])
        assert "reasoning" not in str(request["messages"])
    else:  # no reasoning was made on chat, so none can be replayed
        assert all(i.get("type") != "reasoning" for i in request["input"])


async def test_a_long_streamed_answer_with_code_on_the_responses_dialect(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    prose = " ".join(f"Sentence number {n} explains one more detail." for n in range(60))
    code = "\n".join(f"    total += compute_step({n})  # step {n}" for n in range(90))
    text = (
        f"{prose}\n\n```python\ndef run():\n    total = 0\n{code}\n    return total\n```\n\n{prose}"
    )
    assert len(text) > 9000
    openai_emulator.responses.reply_text(text, chunk_size=150, chunk_delay=0.01)
    general = discord_emulator.channel("general")
    bot_id = discord_emulator.bot_user.id

    def shown() -> list[str]:
        return [
            m.content
            for m in discord_emulator.messages(general)
            if m.author.id == bot_id and m.deleted_at is None
        ]

    async with bot_harness.run(openai={"api_dialect": "responses"}):
        await ask(discord_emulator, "write me a long plan with code")
        expected = render_reply(text, allow_hosts=[])
        await discord_emulator.wait_until(lambda: shown() == expected or None, timeout=60)
    assert len(shown()) >= 5
    assert all(0 < len(content) <= 2000 for content in shown())
    assert openai_emulator.chat.attempts == 0


async def test_a_reasoning_summary_is_attached_only_when_the_owner_asks(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    general = discord_emulator.channel("general")
    script = openai_emulator.responses
    script.reply_text("The answer is 42.", reasoning_content="Six times seven.")
    openai = {"api_dialect": "responses", "chat_model": TERRA}
    async with bot_harness.run(openai=openai):
        await ask(discord_emulator, "what is the answer?")
        hidden = await _answer(discord_emulator, "The answer is 42.")
    assert not hidden.attachments
    assert "reasoning" not in script.requests[0]  # no summary asked, effort left to the model
    script.reply_text("Still 42.", reasoning_content="Six times seven.")
    openai = {**openai, "reasoning_effort": "high", "reasoning_summary": True}
    async with bot_harness.run(openai=openai, chat={"attach_reasoning": True}):
        await ask(discord_emulator, "sure?")
        shown = await discord_emulator.wait_for_message(
            general, lambda m: m.content == "Still 42." and bool(m.attachments), timeout=20
        )
    assert script.requests[1]["reasoning"] == {"effort": "high", "summary": "auto"}
    assert [a.filename for a in shown.attachments] == ["reasoning.txt"]
    assert shown.attachments[0].data == b"Six times seven."


async def test_openais_hosted_web_search_stands_in_for_the_search_tool(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    answer = "The 2024 Olympics were held in Paris."
    openai_emulator.responses.reply_web_search(
        answer,
        query="2024 olympics host city",
        citations=[Citation("https://olympics.example/paris-2024", "Paris 2024", quote="Paris")],
    )
    settings = {"api_dialect": "responses", "hosted_web_search": True}
    async with bot_harness.run(openai=settings, tools={"modules": ["tools.search"]}):
        await ask(discord_emulator, "where were the 2024 olympics?")
        text = f"{answer}\n\nSources:\n- Paris 2024: https://olympics.example/paris-2024"
        (expected,) = render_reply(text, allow_hosts=[])
        shown = await _answer(discord_emulator, expected)
    assert "https://olympics.example" not in shown.content  # shown, not clickable
    (request,) = openai_emulator.responses.requests
    kinds = [(tool["type"], tool.get("name")) for tool in request["tools"]]
    assert ("web_search", None) in kinds
    assert ("function", "web_search") not in kinds
    assert ("function", "fetch_page") in kinds


async def test_reasoning_is_replayed_only_to_the_model_family_that_made_it(
    discord_emulator: DiscordEmulator,
    openai_emulator: OpenAIEmulator,
    bot_harness: BotHarness,
    open_meteo: FakeOpenMeteo,
) -> None:
    script = openai_emulator.responses
    script.reply_tool_calls([ToolCall("weather", {"place": "Paris"}, id="call_w")])
    script.reply_text("Paris is sunny today.")
    tools = _weather(open_meteo)
    first = None
    for model, answer in (
        (TERRA, "Paris is sunny today."),
        (TERRA, "Same family."),
        ("gpt-5.5", "Other family."),
    ):
        if first is not None:
            script.reply_text(answer)
        settings = {"chat_model": model, "api_dialect": "responses"}
        async with bot_harness.run(openai=settings, tools=tools):
            await ask(discord_emulator, f"question for {model}?")
            first = await _answer(discord_emulator, answer, after=first)
    same, other = script.requests[2], script.requests[3]
    assert [i.get("type", i.get("role")) for i in same["input"]] == [
        "user",
        "reasoning",  # kept with its tool round
        "function_call",
        "function_call_output",
        "reasoning",  # kept with the final answer
        "assistant",
        "user",
    ]
    assert all(i.get("type") != "reasoning" for i in other["input"])
    assert _calls(other) == ["call_w"] and list(_outputs(other)) == ["call_w"]
