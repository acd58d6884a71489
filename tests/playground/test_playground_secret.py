"""Issue 16, finding 6: only whoever has the printed link (its key, then its cookie) gets in."""

from __future__ import annotations

import aiohttp
import pytest

from bot.playground import Playground

from .conftest import page_token


def _base(playground: Playground) -> str:
    return playground.url.split("?", 1)[0]


async def test_a_local_client_without_the_key_is_refused_everywhere(
    playground: Playground,
) -> None:
    base = _base(playground)
    general = playground.world.general
    refused_paths = [
        "",
        f"channels/{general.id}",
        f"channels/{general.id}/events",
        f"channels/{general.id}/export",
        "static/playground.js",
        f"channels/{general.id}?key=not-the-key",
    ]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for path in refused_paths:
            async with http.get(base + path, allow_redirects=False) as response:
                assert response.status == 403, path
                text = await response.text()
                assert text == (
                    "Open the playground with the link the playground command printed: "
                    "it carries the key."
                ), path
        form = {"token": "guessed", "content": "export everything", "mention_bot": "1"}
        async with http.post(f"{base}channels/{general.id}/messages", data=form) as response:
            assert response.status == 403
    assert not [m for m in playground.discord.messages(general) if "export" in m.content]


async def test_the_printed_link_sets_a_strict_cookie_that_opens_every_route(
    playground: Playground,
) -> None:
    base = _base(playground)
    general = playground.world.general
    assert "?key=" in playground.url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(playground.url, allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/"
            cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
        async with http.get(f"{base}channels/{general.id}") as response:
            assert response.status == 200
            token = page_token(await response.text())
        async with http.get(f"{base}channels/{general.id}/events") as stream:
            assert stream.status == 200
            assert (await stream.content.readline()).decode().startswith("event: reset")
        form = {"token": token, "content": "roll 1d6", "mention_bot": "1"}
        headers = {"Accept": "application/json"}
        async with http.post(
            f"{base}channels/{general.id}/messages", data=form, headers=headers
        ) as sent:
            assert sent.status == 200
            assert (await sent.json())["ok"] is True


async def test_a_refusal_for_another_host_name_does_not_reveal_the_key(
    playground: Playground,
) -> None:
    key = playground.url.split("?key=", 1)[1]
    async with (
        aiohttp.ClientSession() as http,
        http.get(playground.url, headers={"Host": "evil.example"}) as response,
    ):
        assert response.status == 403
        assert key not in await response.text()


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_opening_the_configured_store_is_warned_about(store: str, tmp_path: object) -> None:
    from bot.playground.run import store_warning
    from bot.settings import settings_from

    dsn = "" if store == "sqlite" else "postgresql://bot:pw@db/toolcord"
    settings = settings_from({"data_dir": "/srv/bot/data", "store": {"dsn": dsn}})
    where = "/srv/bot/data/toolcord.db" if store == "sqlite" else "postgresql://bot:***@db/toolcord"

    assert store_warning(settings) == (
        f"Warning: the playground opens the store your configuration names ({where}). "
        "Conversations you have there, real Discord ones included, are shown and exported in "
        "the playground, and what you do in it is stored there; for a separate store, run it "
        "with a --config whose data_dir (or store.dsn) points elsewhere."
    )
