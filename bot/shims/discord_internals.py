"""discord.py's internals toolcord relies on, with what happens when they are gone.

- ``discord.http.Route.BASE``, ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` and
  ``discord.asset.Asset.BASE``: class attributes overwritten to point the process at another
  Discord (the emulator, a proxy). discord.py has no public setting for them; the public path is
  Discord's own endpoints, which need no change. When an attribute is gone, pointing it elsewhere
  raises ``ConfigError`` instead of silently talking to discord.com.
- ``discord.voice_client.VoiceClient.warn_nacl`` / ``warn_dave``: class flags cleared to drop
  start-up warnings about voice libraries toolcord never needs. Public path: leave the warnings.
- ``discord.http.Route`` with ``HTTPClient.request``: a raw request for voice messages, which
  discord.py 2.7 has no API for (the request still gets its rate limiting, retries and
  authentication). No public path sends a voice message; when ``Route`` is gone,
  :func:`post_form` raises ``discord.ClientException`` naming the fix.

``tests/bot/shims/test_discord_internals.py`` fails when the installed discord.py loses any.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import discord
import discord.asset
import discord.gateway
import discord.http
import discord.voice_client
import yarl

from bot.errors import ConfigError

PIN = "install the discord.py version pyproject.toml names"


def point_discord_at(api_base_url: str, gateway_url: str, cdn_base_url: str) -> None:
    """Set discord.py's REST base, default gateway and CDN base (process-wide class attributes).

    Raises:
        ConfigError: The installed discord.py no longer has one of these attributes.
    """
    targets = (
        (discord.http.Route, "BASE", api_base_url),
        (discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(gateway_url)),
        (discord.asset.Asset, "BASE", cdn_base_url),
    )
    for owner, name, _ in targets:
        if not hasattr(owner, name):
            raise ConfigError(
                f"discord.py {discord.__version__} has no {owner.__name__}.{name}, so toolcord "
                f"cannot point it at the configured Discord endpoints: {PIN}"
            )
    for owner, name, value in targets:
        setattr(owner, name, value)


def quiet_voice_connection_warnings() -> None:
    """Clear discord.py's flags that warn about missing PyNaCl and davey at start-up."""
    discord.voice_client.VoiceClient.warn_nacl = False
    discord.voice_client.VoiceClient.warn_dave = False


async def post_form(
    http: discord.http.HTTPClient, path: str, form: Iterable[dict[str, Any]], **params: Any
) -> Any:
    """POST the multipart ``form`` to ``path`` through discord.py's HTTP client; its JSON answer.

    Raises:
        discord.ClientException: The installed discord.py has no ``discord.http.Route``.
        discord.HTTPException: Discord refused the request.
    """
    route_class = getattr(discord.http, "Route", None)
    if route_class is None:
        raise discord.ClientException(f"discord.py has no discord.http.Route: {PIN}")
    return await http.request(route_class("POST", path, **params), form=form)
