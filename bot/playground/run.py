"""``python -m bot playground``: serve the playground until Ctrl+C (or SIGTERM)."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import urllib.parse
from pathlib import Path

from bot.errors import ConfigError
from bot.logging_setup import configure_logging
from bot.settings import Settings, load_settings

from .session import Playground

DEFAULT_PORT = 8470


def run_playground(settings_path: Path | None, offline: bool, port: int = DEFAULT_PORT) -> int:
    """Serve the playground on http://127.0.0.1:<port>/ until interrupted; returns an exit code.

    Raises:
        ConfigError: the configuration is invalid, no model is configured (without
            ``offline``), or the port is taken.
    """
    settings = load_settings(settings_path)
    key = _model_key(settings) if not offline else ""
    configure_logging(settings.log_level, secrets=(key,))
    asyncio.run(_serve(settings, offline, port))
    return 0


def _model_key(settings: Settings) -> str:
    key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    if not key and not settings.openai.base_url:
        raise ConfigError(
            "OPENAI_API_KEY is not set: put your OpenAI API key in .env (or set OPENAI_BASE_URL "
            "to an OpenAI-compatible server), or run 'python -m bot playground --offline' for "
            "the scripted demo."
        )
    return key


def store_warning(settings: Settings) -> str:
    """The warning printed at start: the playground opens the configured (production) store."""
    return (
        f"Warning: the playground opens the store your configuration names "
        f"({_shown_dsn(settings.store_dsn())}). Conversations you have there, real Discord "
        "ones included, are shown and exported in the playground, and what you do in it is "
        "stored there; for a separate store, run it with a --config whose data_dir (or "
        "store.dsn) points elsewhere."
    )


def _shown_dsn(dsn: str) -> str:
    """``dsn`` without its password."""
    try:
        parts = urllib.parse.urlsplit(dsn)
        if parts.password:
            host = parts.netloc.rsplit("@", 1)[1]
            return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()
    except ValueError:
        return "a DSN that could not be parsed"
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn, flags=re.IGNORECASE)


async def _serve(settings: Settings, offline: bool, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    playground = Playground(settings, offline=offline, port=port)
    try:
        await playground.start()
    except OSError as exc:
        raise ConfigError(
            f"cannot serve the playground on port {port} ({exc.strerror or exc}): pick a free "
            "port with --port."
        ) from None
    try:
        mode = "offline demo model" if offline else f"model {settings.openai.chat_model}"
        print(store_warning(settings), file=sys.stderr, flush=True)
        print(f"toolcord playground ({mode}): open {playground.url}", flush=True)
        print(
            "The link carries a key: whoever has it acts as you in the playground.",
            file=sys.stderr,
            flush=True,
        )
        print("Press Ctrl+C to stop.", file=sys.stderr, flush=True)
        await stop.wait()
    finally:
        await playground.stop()
