"""``python -m bot playground --offline`` in a child process: a working page, no key, no network."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

from .conftest import page_token

START_TIMEOUT_S = 60.0


def child_env() -> dict[str, str]:
    """The environment without any key, token or toolcord setting of the developer's."""
    dropped = ("OPENAI_", "DISCORD_", "TOOLCORD_")
    return {key: value for key, value in os.environ.items() if not key.startswith(dropped)}


def write_config(folder: Path) -> Path:
    config = folder / "bot.toml"
    config.write_text(
        f'data_dir = "{folder / "data"}"\n'
        "[discord]\nguild_ready_timeout = 0.05\n"
        "[chat]\nedit_interval_s = 0.25\n",
        encoding="utf-8",
    )
    return config


async def test_offline_playground_serves_a_working_page(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    log = tmp_path / "playground.log"
    with log.open("wb") as log_file:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "bot", "playground", "--offline", "--port", "0", "--config", str(config)),
            cwd=tmp_path,
            env=child_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=log_file,
        )
    try:
        url = await asyncio.wait_for(_served_url(child, log), START_TIMEOUT_S)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            await _talk_to_the_bot(http, url)
        child.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(child.wait(), 30)
        assert code == 0
        assert "Warning: the playground opens the store your configuration names (" in _tail(log)
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


async def _served_url(child: asyncio.subprocess.Process, log: Path) -> str:
    assert child.stdout is not None
    while True:
        line = (await child.stdout.readline()).decode()
        if not line:
            raise AssertionError(f"the playground exited: {_tail(log)}")
        found = re.search(r"open (http://127\.0\.0\.1:\d+/\?key=[\w-]+)$", line.strip())
        if found:
            return found.group(1)


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-2000:]


async def _talk_to_the_bot(http: aiohttp.ClientSession, url: str) -> None:
    async with http.get(url) as response:
        assert response.status == 200
        page = await response.text()
        channel_url = str(response.url)
    assert "toolcord playground" in page and "#general" in page
    async with http.get(f"{channel_url}/events") as stream:
        form = {"token": page_token(page), "content": "weather in Paris?", "mention_bot": "1"}
        headers = {"Accept": "application/json"}
        async with http.post(f"{channel_url}/messages", data=form, headers=headers) as sent:
            assert (await sent.json())["ok"] is True
        await asyncio.wait_for(_wait_for_text(stream, "Weather for Paris"), 30)


async def _wait_for_text(stream: aiohttp.ClientResponse, text: str) -> None:
    while True:
        line = (await stream.content.readline()).decode()
        if line.startswith("data: ") and text in json.loads(line[6:]).get("html", ""):
            return


async def test_without_a_key_it_says_how_to_run_offline(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "bot", "playground", "--config", str(config)),
        cwd=tmp_path,
        env=child_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, errors = await asyncio.wait_for(child.communicate(), 60)
    assert child.returncode == 2
    assert "--offline" in errors.decode()
