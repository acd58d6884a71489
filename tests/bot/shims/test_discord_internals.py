"""discord.py still has what bot/shims/discord_internals.py relies on; a loss is reported."""

from __future__ import annotations

from typing import Any

import discord
import discord.asset
import discord.gateway
import discord.http
import discord.voice_client
import pytest
import yarl

from bot.errors import ConfigError
from bot.shims import discord_internals
from bot.shims.discord_internals import point_discord_at, post_form

API = "http://127.0.0.1:9/api/v10"
GATEWAY = "ws://127.0.0.1:9/gateway"
CDN = "http://127.0.0.1:9/cdn"


@pytest.fixture
def endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Restores discord.py's endpoints after the test."""
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    gateway = discord.gateway.DiscordWebSocket
    monkeypatch.setattr(gateway, "DEFAULT_GATEWAY", gateway.DEFAULT_GATEWAY)
    monkeypatch.setattr(discord.asset.Asset, "BASE", discord.asset.Asset.BASE)


@pytest.mark.usefixtures("endpoints")
def test_the_endpoints_are_the_class_attributes_discord_py_reads() -> None:
    point_discord_at(API, GATEWAY, CDN)
    assert discord.http.Route("GET", "/users/@me").url == API + "/users/@me"
    assert yarl.URL(GATEWAY) == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    assert discord.asset.Asset.BASE == CDN


@pytest.mark.usefixtures("endpoints")
def test_a_lost_attribute_is_a_config_error_and_nothing_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(discord.asset.Asset, "BASE")
    before = discord.http.Route.BASE
    with pytest.raises(ConfigError, match=r"Asset\.BASE.*pyproject\.toml"):
        point_discord_at(API, GATEWAY, CDN)
    assert before == discord.http.Route.BASE


def test_the_voice_warning_flags_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    voice = discord.voice_client.VoiceClient
    monkeypatch.setattr(voice, "warn_nacl", voice.warn_nacl)
    monkeypatch.setattr(voice, "warn_dave", voice.warn_dave)
    discord_internals.quiet_voice_connection_warnings()
    assert voice.warn_nacl is False and voice.warn_dave is False


class _Http:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, Any]] = []

    async def request(self, route: discord.http.Route, *, form: Any = None) -> Any:
        self.sent.append((route, form))
        return {"id": "5"}


async def test_a_form_is_posted_through_discord_py_s_route() -> None:
    http = _Http()
    form = [{"name": "payload_json", "value": "{}"}]
    answer = await post_form(http, "/channels/{channel_id}/messages", form, channel_id=42)  # type: ignore[arg-type]
    assert answer == {"id": "5"}
    ((route, sent_form),) = http.sent
    assert isinstance(route, discord.http.Route)
    assert (route.method, route.url, route.channel_id) == (
        "POST",
        discord.http.Route.BASE + "/channels/42/messages",
        42,
    )
    assert sent_form is form


async def test_without_route_posting_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(discord.http, "Route")
    with pytest.raises(discord.ClientException, match=r"pyproject\.toml"):
        await post_form(_Http(), "/x", [])  # type: ignore[arg-type]
