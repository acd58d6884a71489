"""Helpers to run MCP servers for the tests: the fixture server and server-everything (npm)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FIXTURE = Path(__file__).with_name("mcp_fixture_server.py")
EVERYTHING = (
    ROOT / "tests/mcp_peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s")


@contextmanager
def http_server(argv: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port)
        yield
    finally:
        process.kill()
        process.wait(10)


def fixture_http_argv(port: int) -> list[str]:
    return [sys.executable, str(FIXTURE), "http", str(port)]


async def eventually(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Wait until ``check()`` holds (polling every 20 ms), failing after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        while not check():  # noqa: ASYNC110 - polls state other tasks change
            await asyncio.sleep(0.02)
