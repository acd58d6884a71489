"""Issue 18 end to end: a server's knowledge base and a user's memory, through both emulators."""

from __future__ import annotations

import json
from typing import Any

from bot.knowledge.auto_offer import HEADER
from bot.knowledge.intake import parse_message_link
from bot.testing.discord import DiscordEmulator
from bot.testing.harness import BotHarness
from bot.testing.openai import EmbeddingReply, OpenAIEmulator, ToolCall
from bot.testing.openai.routes.embeddings import hash_vector

from .conftest import ask
from .knowledge_kit import FAQ, WARRANTY, one_page_pdf, run_command, synced, tool_results

TOOLS = {"modules": ["tools.knowledge"]}


async def _answer_with_search(
    emu: DiscordEmulator, oai: OpenAIEmulator, question: str, query: str, *, user: str = "bob"
) -> list[dict[str, Any]]:
    """``user`` asks; the model searches for ``query``; returns what the tool sent the model."""
    before = len(oai.chat.requests)
    oai.chat.reply_tool_calls([ToolCall("search_knowledge", {"query": query}, id="call_kb")])
    answer = f"Here is what the server's notes say ({before})."
    oai.chat.reply_text(answer)
    await ask(emu, question, user=user)
    await emu.wait_for_message(emu.channel("general"), lambda m: m.content == answer, timeout=30)
    second = oai.chat.requests[before + 1]
    result = tool_results(second)[-1]  # earlier turns' results are history
    assert second["messages"][-1]["tool_call_id"] == "call_kb"
    return list(result["results"])


async def _add_sources(emu: DiscordEmulator) -> tuple[str, str]:
    faq = emu.attachment("faq.md", FAQ.encode(), "text/markdown")
    pdf = emu.attachment("warranty.pdf", one_page_pdf(WARRANTY), "application/pdf")
    return (
        await run_command(emu, "knowledge add", file=faq),
        await run_command(emu, "knowledge add", file=pdf),
    )


async def test_admin_adds_markdown_and_pdf_and_answers_cite_them(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu, oai = discord_emulator, openai_emulator
    async with bot_harness.run(tools=TOOLS) as bot:
        await synced(bot)
        assert "Manage Server" in await run_command(
            emu,
            "knowledge add",
            user="bob",
            file=emu.attachment("x.md", b"# x\ny", "text/markdown"),
        )
        added_faq, added_pdf = await _add_sources(emu)
        refunds = await _answer_with_search(emu, oai, "how long do refunds take?", "refunds")
        warranty = await _answer_with_search(emu, oai, "how long is the warranty?", "warranty")
        listed = await run_command(emu, "knowledge list")
        usage = await bot.services.store.usage_totals(user_id=emu.user("owner").id)
    assert added_faq == "Added **faq.md** as source #1 (3 chunk(s))."
    assert added_pdf == "Added **warranty.pdf** as source #2 (1 chunk(s))."
    assert refunds[0] == {
        "source": "faq.md",
        "section": "faq.md > Shop FAQ > Refunds",
        "link": None,
        "text": "Refunds take five business days after the parcel comes back.",
    }
    assert (warranty[0]["source"], warranty[0]["section"]) == (
        "warranty.pdf",
        "warranty.pdf > page 1",
    )
    assert WARRANTY in warranty[0]["text"]
    assert "#1 **faq.md** (file, 3 chunk(s))" in listed and "#2 **warranty.pdf**" in listed
    # Both sources were embedded in one request each and charged to the admin who added them.
    embedded = oai.embeddings.requests[:2]
    assert [len(body["input"]) for body in embedded] == [3, 1]
    assert usage.requests == 2 and usage.prompt_tokens > 0


async def test_a_removed_source_is_never_cited_again(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu, oai = discord_emulator, openai_emulator
    async with bot_harness.run(tools=TOOLS) as bot:
        await synced(bot)
        await _add_sources(emu)
        before = await _answer_with_search(emu, oai, "refunds and shipping?", "refunds shipping")
        removed = await run_command(emu, "knowledge remove", source=1)
        again = await run_command(emu, "knowledge remove", source=1)
        after = await _answer_with_search(emu, oai, "refunds and shipping?", "refunds shipping")
    assert {hit["source"] for hit in before} == {"faq.md", "warranty.pdf"}
    assert removed == "Removed **faq.md** (source #1)."
    assert again == "This server has no source #1; see /knowledge list."
    assert {hit["source"] for hit in after} == {"warranty.pdf"}
    assert "faq.md" not in oai.chat.requests[-1]["messages"][-1]["content"]


async def test_an_exact_product_code_is_found_by_the_lexical_side(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu, oai = discord_emulator, openai_emulator
    async with bot_harness.run(tools=TOOLS) as bot:
        await synced(bot)
        await _add_sources(emu)
        # The question's embedding points at the shipping chunk: only full text knows the code.
        oai.embeddings.reply(
            EmbeddingReply([hash_vector("Parcels leave the Lyon warehouse", 1536)])
        )
        hits = await _answer_with_search(emu, oai, "what is ZX-4411-Q?", "ZX-4411-Q")
    assert hits[0]["text"] == "The replacement adapter has the product code ZX-4411-Q."


async def test_memory_is_kept_shown_used_and_forgotten(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu, oai = discord_emulator, openai_emulator
    general = emu.channel("general")
    async with bot_harness.run(tools=TOOLS) as bot:
        await synced(bot)
        oai.chat.reply_tool_calls([ToolCall("remember", {"fact": "prefers metric units"})])
        oai.chat.reply_text("I'll remember that.")
        await ask(emu, "remember that I prefer metric units", user="bob")
        await emu.wait_for_message(
            general, lambda m: m.content == "I'll remember that.", timeout=30
        )
        shown = await run_command(emu, "memory show", user="bob")
        other = await run_command(emu, "memory show", user="alice")
        oai.chat.reply_text("Used.")
        await ask(emu, "how warm is it?", user="bob")
        await emu.wait_for_message(general, lambda m: m.content == "Used.", timeout=30)
        used = oai.chat.requests[-1]
        oai.chat.reply_text("Alice's answer.")
        await ask(emu, "and for me?", user="alice")
        await emu.wait_for_message(general, lambda m: m.content == "Alice's answer.", timeout=30)
        alice_request = oai.chat.requests[-1]
        forgot = await run_command(emu, "memory forget", user="bob")
        after = await run_command(emu, "memory show", user="bob")
        oai.chat.reply_text("Plain.")
        await ask(emu, "how warm is it now?", user="bob")
        await emu.wait_for_message(general, lambda m: m.content == "Plain.", timeout=30)
        plain = oai.chat.requests[-1]
    assert shown == "What the bot remembers about you here:\n#1: prefers metric units"
    assert other == "The bot remembers nothing about you here."
    memory_messages = [
        m["content"]
        for m in used["messages"]
        if m["role"] == "system" and "remember" in m["content"]
    ]
    assert len(memory_messages) == 1 and memory_messages[0].endswith("\n- prefers metric units")
    # Alice shares the channel's conversation (she sees its history), never Bob's memory.
    alice_system = [m["content"] for m in alice_request["messages"] if m["role"] == "system"]
    assert "prefers metric units" not in json.dumps(alice_system)
    assert forgot == "Deleted 1 memory(ies)."
    assert after == "The bot remembers nothing about you here."
    assert "prefers metric units" not in json.dumps(
        [m for m in plain["messages"] if m["role"] == "system"]
    )


async def test_a_message_link_becomes_a_cited_source(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu, oai = discord_emulator, openai_emulator
    general = emu.channel("general")
    async with bot_harness.run(tools=TOOLS) as bot:
        await synced(bot)
        posted = await emu.inject_message(
            general, emu.user("owner"), "Rule 4: no spoilers in #general."
        )
        link = f"https://discord.com/channels/{emu.guild.id}/{general.id}/{posted['id']}"
        assert parse_message_link(link) is not None
        added = await run_command(emu, "knowledge add", message_link=link)
        hits = await _answer_with_search(emu, oai, "are spoilers allowed?", "spoilers rule")
    assert added.startswith("Added **message by ")
    assert hits[0]["link"] == link and "no spoilers" in hits[0]["text"]


async def test_auto_offer_puts_the_best_notes_in_each_turn_where_turned_on(
    discord_emulator: DiscordEmulator, openai_emulator: OpenAIEmulator, bot_harness: BotHarness
) -> None:
    emu, oai = discord_emulator, openai_emulator
    general = emu.channel("general")
    async with bot_harness.run(tools=TOOLS) as bot:
        await synced(bot)
        await _add_sources(emu)
        oai.chat.reply_text("Without notes.")
        await ask(emu, "how long do refunds take?", user="bob")
        await emu.wait_for_message(general, lambda m: m.content == "Without notes.", timeout=30)
        off = oai.chat.requests[-1]
        refused = await run_command(emu, "knowledge auto-offer", user="bob", enabled=True)
        turned_on = await run_command(emu, "knowledge auto-offer", enabled=True)
        oai.chat.reply_text("With notes.")
        await ask(emu, "how long do refunds take?", user="bob")
        await emu.wait_for_message(general, lambda m: m.content == "With notes.", timeout=30)
        on = oai.chat.requests[-1]
    assert "Manage Server" in refused
    assert (
        turned_on
        == "Auto-offer is on: each message here gets the best notes of the knowledge base."
    )
    assert not any(HEADER in str(m["content"]) for m in off["messages"])
    [offered] = [m["content"] for m in on["messages"] if HEADER in str(m["content"])]
    notes = json.loads(offered.split("\n", 1)[1])
    assert notes[0] == {
        "source": "faq.md",
        "section": "faq.md > Shop FAQ > Refunds",
        "link": None,
        "text": "Refunds take five business days after the parcel comes back.",
    }
    assert len(notes) <= 3
