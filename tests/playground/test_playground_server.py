"""The playground's server without a browser: page, actions, live events, export, guards."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.playground import Playground
from bot.testing.openai.media.ogg import silent_ogg_opus

from .conftest import page_token, playground_settings

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f00050001ff89993d1d0000000049454e44ae426082"
)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def open_page(http: aiohttp.ClientSession, playground: Playground, channel_id: int) -> str:
    async with http.get(playground.link(f"channels/{channel_id}")) as response:
        assert response.status == 200
        return await response.text()


async def post(
    http: aiohttp.ClientSession, url: str, token: str, fields: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData()
    form.add_field("token", token)
    for name, value in fields.items():
        if isinstance(value, tuple):
            filename, data, content_type = value
            form.add_field(name, data, filename=filename, content_type=content_type)
        else:
            form.add_field(name, str(value))
    async with http.post(url, data=form, headers={"Accept": "application/json"}) as response:
        return response.status, await response.json(content_type=None)


async def test_the_page_shows_the_guild_thread_dm_and_security_headers(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    async with http.get(playground.url) as response:
        assert response.status == 200
        page = await response.text()
        policy = response.headers["Content-Security-Policy"]
    world = playground.world
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    for name in ("#general", "#random", "#bot-lab", "↳ demo-thread", "@toolcord"):
        assert name in page
    assert f'href="/channels/{world.dm.id}"' in page
    assert "Welcome to the toolcord playground" in page


async def test_a_message_is_answered_and_streams_over_server_sent_events(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    general = playground.world.general
    token = page_token(await open_page(http, playground, general.id))
    events_url = f"{playground.base_url}channels/{general.id}/events"
    async with http.get(events_url) as stream:
        first = await _next_event(stream)
        assert first[0] == "reset"
        status, answer = await post(
            http,
            f"{playground.base_url}channels/{general.id}/messages",
            token,
            {"content": "show me a long answer", "mention_bot": "1"},
        )
        assert (status, answer["ok"]) == (200, True)
        shown: list[str] = []
        while not any("from the channel header." in html for html in shown):
            name, data = await _next_event(stream)
            if name == "upsert" and 'class="msg from-bot"' in data["html"]:
                shown.append(data["html"])
    bot_messages = [m for m in playground.discord.messages(general) if m.author.bot]
    assert len(bot_messages) == 2, "the long answer is split at 2,000 characters"
    first_message = bot_messages[0]
    assert len(first_message.edits) >= 2, "the answer must have grown edit by edit"
    assert '<pre class="md-code"><code data-lang="python">' in "".join(shown)


async def _next_event(stream: aiohttp.ClientResponse) -> tuple[str, dict[str, Any]]:
    name = ""
    while True:
        line = (await stream.content.readline()).decode()
        if line.startswith("event: "):
            name = line[7:].strip()
        elif line.startswith("data: ") and name:
            return name, json.loads(line[6:])


async def test_posts_need_the_page_token_and_the_page_origin(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    general = playground.world.general
    url = f"{playground.base_url}channels/{general.id}/messages"
    status, _ = await post(http, url, "wrong", {"content": "hi"})
    assert status == 403
    token = page_token(await open_page(http, playground, general.id))
    headers = {"Origin": "http://evil.example", "Accept": "application/json"}
    async with http.post(url, data={"token": token, "content": "hi"}, headers=headers) as reply:
        assert reply.status == 403
    rebound = {"Host": "evil.example"}
    async with http.get(f"{playground.base_url}channels/{general.id}", headers=rebound) as reply:
        assert reply.status == 403, "a page asked for by another host name must be refused"
    assert not [m for m in playground.discord.messages(general) if m.content.endswith("hi")]


async def test_files_are_attached_and_served_safely(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    general = playground.world.general
    token = page_token(await open_page(http, playground, general.id))
    status, answer = await post(
        http,
        f"{playground.base_url}channels/{general.id}/messages",
        token,
        {
            "content": "look",
            "files": ("dot.png", PNG, "image/png"),
            "mention_bot": "1",
        },
    )
    assert status == 200
    message = playground.discord.message(int(answer["sent"][0]))
    assert message is not None and message.content.startswith(f"<@{playground.world.bot.id}>")
    attachment = message.attachments[0]
    served = f"{playground.base_url}attachments/{message.id}/{attachment.id}"
    async with http.get(served) as response:
        assert response.headers["Content-Type"] == "image/png"
        assert await response.read() == PNG
    status, answer = await post(
        http,
        f"{playground.base_url}channels/{general.id}/messages",
        token,
        {"files": ("page.html", b"<script>alert(1)</script>", "text/html")},
    )
    message = playground.discord.message(int(answer["sent"][0]))
    assert message is not None
    url = f"{playground.base_url}attachments/{message.id}/{message.attachments[0].id}"
    async with http.get(url) as response:
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert "sandbox" in response.headers["Content-Security-Policy"]
    reply = await playground.discord.wait_for_message(
        general, lambda m: "received an image" in m.content, timeout=20
    )
    assert reply.referenced_message_id is not None


async def test_a_voice_message_in_the_dm_is_transcribed_and_answered(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    dm = playground.world.dm
    token = page_token(await open_page(http, playground, dm.id))
    status, _ = await post(
        http,
        f"{playground.base_url}channels/{dm.id}/messages",
        token,
        {"voice": ("voice.ogg", silent_ogg_opus(1.5), "audio/ogg"), "duration": "1.5"},
    )
    assert status == 200
    voice = next(m for m in playground.discord.messages(dm) if m.is_voice_message)
    assert voice.attachments[0].filename == "voice-message.ogg"
    await playground.discord.wait_for_message(
        dm, lambda m: "Weather for Oslo" in m.content, timeout=30
    )


async def test_the_conversation_can_be_exported(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    random = playground.world.channels[1]
    async with http.get(playground.link(f"channels/{random.id}/export")) as response:
        assert response.status == 404
    token = page_token(await open_page(http, playground, random.id))
    await post(
        http,
        f"{playground.base_url}channels/{random.id}/messages",
        token,
        {"content": "roll 2d6", "mention_bot": "1"},
    )
    await playground.discord.wait_for_message(
        random, lambda m: "`roll_dice` returned" in m.content, timeout=20
    )
    async with http.get(f"{playground.base_url}channels/{random.id}/export") as response:
        assert response.status == 200
        exported = json.loads(await response.text())
    assert "roll 2d6" in json.dumps(exported)


async def test_the_synced_commands_are_offered_and_run(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    general = playground.world.general
    page = await open_page(http, playground, general.id)
    synced = {c["name"] for c in playground.discord.synced_commands(None)}
    synced |= {c["name"] for c in playground.discord.synced_commands(playground.world.guild)}
    assert synced, "the playground syncs the bot's commands when no cog does"
    for name in synced:
        assert name in page
    status, answer = await post(
        http,
        f"{playground.base_url}channels/{general.id}/commands",
        page_token(page),
        {"command": "no-such-command"},
    )
    assert status == 400 and "not a command" in answer["error"]


async def test_a_reply_to_the_bot_continues_without_a_mention(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    channel = playground.world.channels[1]
    token = page_token(await open_page(http, playground, channel.id))
    url = f"{playground.base_url}channels/{channel.id}/messages"
    await post(http, url, token, {"content": "hello", "mention_bot": "1"})
    first = await playground.discord.wait_for_message(
        channel, lambda m: "offline demo model" in m.content, timeout=20
    )
    status, answer = await post(http, url, token, {"content": "roll 1d20", "reply_to": first.id})
    assert status == 200
    reply = playground.discord.message(int(answer["sent"][0]))
    assert reply is not None and reply.referenced_message_id == first.id
    assert f"<@{playground.world.bot.id}>" not in reply.content
    await playground.discord.wait_for_message(
        channel, lambda m: "roll_dice" in m.content, after=first, timeout=20
    )
    status, answer = await post(http, url, token, {"content": "again", "reply_to": "123"})
    assert status == 400 and "gone" in answer["error"]


async def test_conversations_persist_across_playground_runs(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    settings = playground_settings(tmp_path / "data")
    async with Playground(settings, offline=True) as first_run:
        general = first_run.world.general
        token = page_token(await open_page(http, first_run, general.id))
        url = f"{first_run.base_url}channels/{general.id}/messages"
        await post(http, url, token, {"content": "remember the word marmalade", "mention_bot": "1"})
        await first_run.discord.wait_for_message(
            general, lambda m: "offline demo model" in m.content, timeout=20
        )
    async with Playground(settings, offline=True) as second_run:
        assert second_run.world.general.id == general.id
        async with http.get(second_run.link(f"channels/{general.id}/export")) as response:
            assert response.status == 200
            assert "marmalade" in await response.text()


async def test_an_image_a_tool_made_is_attached_and_shown(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    if "generate_image" not in {tool.name for tool in playground.bot.services.registry.all()}:
        pytest.skip("the images tools (tools.images) are not loaded in this tree")
    channel = playground.world.channels[2]
    token = page_token(await open_page(http, playground, channel.id))
    url = f"{playground.base_url}channels/{channel.id}/messages"
    await post(http, url, token, {"content": "draw a lighthouse at night", "mention_bot": "1"})
    answer = await playground.discord.wait_for_message(
        channel, lambda m: bool(m.attachments), timeout=20
    )
    page = await open_page(http, playground, channel.id)
    image_url = f"/attachments/{answer.id}/{answer.attachments[0].id}"
    assert f'<img src="{image_url}"' in page
    async with http.get(playground.base_url.rstrip("/") + image_url) as response:
        assert response.headers["Content-Type"] == "image/png"


async def test_the_page_has_an_icon_and_favicon_ico_is_not_a_404(
    playground: Playground, http: aiohttp.ClientSession
) -> None:
    page = await open_page(http, playground, playground.world.general.id)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    async with http.get(f"{playground.base_url}favicon.ico") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/svg+xml"
        assert (await response.text()).startswith("<svg ")
