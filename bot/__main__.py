"""toolcord's command line: run the bot (default), check the configuration, migrate the store.

This is the composition root: it builds the Settings once and wires concrete things together.
Every failure that ends a command is explained in a line or two (bot.startup_failures).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.discord_token import application_id_from_token
from bot.errors import ConfigError
from bot.model_lifecycle import Today, utc_today
from bot.settings import Settings, load_settings
from bot.startup_failures import EXIT_CODE_HELP, ExitCode, explain

if TYPE_CHECKING:
    from tools.registry import ToolRegistry


DESCRIPTION = "Run a toolcord Discord bot, check its configuration, or migrate its store."


def main(argv: Sequence[str] | None = None, *, today: Today = utc_today) -> int:
    """Entry point of ``python -m bot`` and the ``toolcord`` console script.

    ``today`` is the clock the model shutdown check reads (tests pass a fixed date).
    """
    args = _parser().parse_args(argv)
    _put_working_dir_on_path()
    try:
        return _command(args, today)
    except KeyboardInterrupt:
        return ExitCode.OK
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        failure = explain(exc)
        print(f"toolcord: {failure.message}", file=sys.stderr)
        return failure.exit_code


def _put_working_dir_on_path() -> None:
    """Tool modules in the working folder import under ``toolcord`` as under ``python -m bot``.

    ``python -m`` puts the working folder first on ``sys.path``; a console script puts its own
    ``bin`` folder there instead, so ``tools.modules = ["mytools"]`` would fail only there.
    """
    here = str(Path.cwd())
    if here not in sys.path and "" not in sys.path:
        sys.path.insert(0, here)


def _command(args: argparse.Namespace, today: Today) -> int:
    if args.command == "playground":
        from bot.playground import run_playground

        return run_playground(args.config, offline=args.offline, port=args.port)
    settings = load_settings(args.config)
    if args.command == "check":
        return _check(settings, today)
    if args.command == "migrate":
        return asyncio.run(_migrate(settings))
    return _run(settings, today)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toolcord",
        description=DESCRIPTION,
        epilog=EXIT_CODE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=("run", "check", "migrate", "playground"),
        help="run the bot (default), check the configuration, migrate the store, or talk to the "
        "bot in a local playground page (no Discord application needed)",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="the TOML file (default config/bot.toml)"
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="playground: answer with a scripted demo model (no key, no network)",
    )
    parser.add_argument(
        "--port", type=int, default=8470, help="playground: the page's port (default 8470)"
    )
    parser.add_argument(
        "--debug", action="store_true", help="print the traceback when toolcord stops on an error"
    )
    return parser


def require_secrets(settings: Settings) -> tuple[str, str]:
    """The Discord token and OpenAI key, or a ConfigError naming what is missing."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError(
            "DISCORD_TOKEN is not set: put your bot token in .env "
            "(Discord Developer Portal -> your application -> Bot -> Reset Token)."
        )
    if application_id_from_token(token) is None:
        raise ConfigError(
            "DISCORD_TOKEN does not look like a bot token: copy it again from the Developer Portal "
            "(Bot -> Reset Token) into .env."
        )
    key = settings.openai_api_key.get_secret_value().strip() if settings.openai_api_key else ""
    if not key and not settings.openai.base_url:
        raise ConfigError(
            "OPENAI_API_KEY is not set: put your OpenAI API key in .env "
            "(or set OPENAI_BASE_URL to an OpenAI-compatible server that needs none)."
        )
    return token, key or "unused"


def _load_tools(settings: Settings) -> ToolRegistry:
    """Import the configured tool modules and check every schema (before connecting anywhere)."""
    from bot.wiring import load_tools
    from tools.schema import assert_strict_schema

    registry = load_tools(settings)
    for tool in registry.all():
        assert_strict_schema(tool.openai_schema()["function"]["parameters"])
    return registry


def _check(settings: Settings, today: Today) -> int:
    from bot.app import describe_settings, invite_url
    from bot.models import check_models

    warnings = check_models(settings, today())
    registry = _load_tools(settings)
    summary = describe_settings(settings)
    summary["tools"] = sorted(tool.name for tool in registry.all())
    summary["knowledge_search"] = _knowledge_search(settings)
    problems: list[str] = []
    if settings.mcp.servers:
        from bot.mcp_status import check_servers

        summary["mcp_servers"], mcp_problems = asyncio.run(check_servers(settings))
        problems.extend(mcp_problems)
    try:
        token, _ = require_secrets(settings)
        app_id = application_id_from_token(token)
        summary["invite_url"] = invite_url(app_id) if app_id else None
    except ConfigError as exc:
        problems.append(str(exc))
    print(json.dumps(summary, indent=2))
    for warning in warnings:
        print(f"toolcord: warning: {warning}", file=sys.stderr)
    for problem in problems:
        print(f"toolcord: {problem}", file=sys.stderr)
    if not problems:
        print("toolcord: the configuration is valid.", file=sys.stderr)
    return 1 if problems else 0


def _knowledge_search(settings: Settings) -> str:
    """Which knowledge search path the configured store uses (issue 18)."""
    from bot.store.factory import parse_location
    from bot.store.knowledge import search_path

    backend, _ = parse_location(settings.store_dsn())
    return search_path(backend, settings.knowledge.max_chunks_per_guild)


async def _migrate(settings: Settings) -> int:
    from bot.store import open_store
    from bot.store.errors import make_data_folder

    make_data_folder(settings.data_dir)
    store = await open_store(settings.store_dsn())
    await store.close()
    print("toolcord: the store is at the current schema version.", file=sys.stderr)
    return 0


def _run(settings: Settings, today: Today) -> int:
    token, key = require_secrets(settings)
    _load_tools(settings)
    from bot.runner import run_bot

    app_id = application_id_from_token(token)
    asyncio.run(run_bot(settings, token, key, application_id=app_id, today=today))
    return 0


if __name__ == "__main__":
    sys.exit(main())
