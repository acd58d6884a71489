"""Playground access (issue 16, finding 6): a local process without the printed link gets nothing.

A plain HTTP client, as any local process could run, probes every route of a running offline
playground without the key, with wrong keys (in the address and in the cookie), and with the
key but another host name; each probe must be refused (403) and none may reach the emulator.
The controls go through the printed link's cookie and must work.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from bot.playground import Playground
from bot.settings import settings_from

FAST = {"discord": {"guild_ready_timeout": 0.05}, "chat": {"edit_interval_s": 0.25}}
WRONG_KEYS = ("", "x", "0" * 43, "key")


def _routes(playground: Playground) -> list[tuple[str, str]]:
    world = playground.world
    routes: list[tuple[str, str]] = [("GET", ""), ("GET", "static/playground.js")]
    for channel in (world.general, world.dm, *world.channels):
        base = f"channels/{channel.id}"
        routes += [("GET", base), ("GET", f"{base}/events"), ("GET", f"{base}/export")]
        routes += [("POST", f"{base}/{action}") for action in ("messages", "commands", "menu")]
    return routes


async def _status(
    http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str] | None = None
) -> int:
    data = {"token": "guessed", "content": "probe", "command": "export"}
    async with http.request(
        method, url, data=data if method == "POST" else None, headers=headers,
        allow_redirects=False,
    ) as response:  # fmt: skip
        return response.status


async def _probe(playground: Playground, key: str) -> tuple[int, int]:
    """Every route without the key, with wrong keys, and from another host: (probes, let in)."""
    probes = let_in = 0
    port = playground.base_url.rstrip("/").rsplit(":", 1)[1]
    for method, path in _routes(playground):
        attempts: list[tuple[str, dict[str, str]]] = [(playground.base_url + path, {})]
        for wrong in WRONG_KEYS:
            attempts.append((f"{playground.base_url}{path}?key={wrong}", {}))
            attempts.append(
                (playground.base_url + path, {"Cookie": f"toolcord_playground_{port}={wrong}"})
            )
        attempts.append((f"{playground.base_url}{path}?key={key}", {"Host": "evil.example"}))
        async with aiohttp.ClientSession() as http:
            for url, headers in attempts:
                probes += 1
                let_in += await _status(http, method, url, headers) != 403
    return probes, let_in


async def _controls(playground: Playground) -> tuple[int, int]:
    jar = aiohttp.CookieJar(unsafe=True)
    worked = 0
    paths = [f"channels/{playground.world.general.id}", "static/playground.js", ""]
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(playground.url) as response:
            worked += response.status == 200
        for path in paths:
            async with http.get(playground.base_url + path) as response:
                worked += response.status == 200
    return len(paths) + 1, worked


async def run_playground_access() -> dict[str, Any]:
    """Start an offline playground and probe it."""
    with tempfile.TemporaryDirectory() as folder:
        settings = settings_from({"data_dir": str(Path(folder) / "data"), **FAST})
        async with Playground(settings, offline=True, realistic_rate_limits=False) as playground:
            key = playground.url.split("?key=", 1)[1]
            probes, let_in = await _probe(playground, key)
            controls, controls_ok = await _controls(playground)
            injected = [
                m
                for channel in (playground.world.general, playground.world.dm)
                for m in playground.discord.messages(channel)
                if m.content.endswith("probe")
            ]
    return {
        "probes": probes,
        "let_in": let_in,
        "messages_injected_by_probes": len(injected),
        "controls": controls,
        "controls_ok": controls_ok,
    }


def playground_access_ok(figures: dict[str, Any]) -> bool:
    """The gate: every probe refused, nothing injected, the printed link works."""
    return (
        figures["let_in"] == 0
        and figures["messages_injected_by_probes"] == 0
        and figures["controls_ok"] == figures["controls"]
    )
