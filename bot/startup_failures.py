"""What an owner sees when toolcord cannot start: one or two lines and an exit code per class.

The command line turns every exception that ends a run into a :class:`Failure`: a message that
says what happened and what to do, and an exit code that tells a supervisor (systemd, Docker,
a script) which kind of problem it is. Tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

import dataclasses
import enum
import errno
from collections.abc import Callable

import aiohttp
import discord

from bot.errors import ConfigError, StoreError
from tools.errors import ToolDefinitionError, ToolLoadError


class ExitCode(enum.IntEnum):
    """``python -m bot``'s exit codes, one per class of failure."""

    OK = 0
    CHECK_FAILED = 1
    CONFIG = 2
    TOOL_MODULE = 3
    STORE = 4
    TOKEN_REFUSED = 5
    INTENTS_REFUSED = 6
    UNREACHABLE = 7
    DNS = 8
    TLS = 9
    UNEXPECTED = 70


EXIT_CODE_HELP = """exit codes:
  0  stopped normally            5  Discord refused DISCORD_TOKEN
  1  check found problems        6  Discord refused a privileged intent
  2  configuration error         7  Discord unreachable (refused, timed out)
  3  a tool module is broken     8  DNS: Discord's host name does not resolve
  4  the store cannot open       9  TLS: the secure connection to Discord failed
 70  unexpected error (run again with --debug for the traceback)"""


@dataclasses.dataclass(frozen=True)
class Failure:
    """The lines to print (without the ``toolcord:`` prefix) and the exit code."""

    message: str
    exit_code: ExitCode


Explainer = Callable[[BaseException], Failure]


def explain(error: BaseException) -> Failure:
    """The owner-facing explanation of ``error``, which ended a run of the command line."""
    for kind, explainer in _EXPLAINERS:
        if isinstance(error, kind):
            return explainer(error)
    return Failure(
        f"stopped on an unexpected error: {type(error).__name__}: {error}\n"
        "Run again with --debug to see the traceback, and report it if the cause is not yours.",
        ExitCode.UNEXPECTED,
    )


def _token(_: BaseException) -> Failure:
    return Failure(
        "Discord refused DISCORD_TOKEN: reset the token in the Developer Portal (Bot -> Reset "
        "Token) and put the new one in .env.",
        ExitCode.TOKEN_REFUSED,
    )


def _intents(_: BaseException) -> Failure:
    return Failure(
        "Discord refused the Message Content intent: enable it in the Developer Portal (Bot -> "
        "Privileged Gateway Intents) or set discord.message_content_intent = false.",
        ExitCode.INTENTS_REFUSED,
    )


def _dns(error: BaseException) -> Failure:
    host = _host(error)
    return Failure(
        f"cannot reach Discord: the host name {host} does not resolve (DNS).\n"
        "Check this machine's network and DNS, or discord.api_base_url if you changed it.",
        ExitCode.DNS,
    )


def _tls(error: BaseException) -> Failure:
    return Failure(
        f"cannot reach Discord: the secure connection to {_address(error)} failed "
        f"({_tls_reason(error)}).\n"
        "Check the machine's clock and CA certificates, a proxy that intercepts TLS, or "
        "discord.api_base_url if you changed it.",
        ExitCode.TLS,
    )


def _tls_reason(error: BaseException) -> str:
    verify_message = getattr(getattr(error, "certificate_error", None), "verify_message", None)
    if verify_message:
        return f"certificate: {verify_message}"
    reason = getattr(getattr(error, "os_error", None), "reason", None)
    return reason.replace("_", " ").lower() if reason else str(error)


def _unreachable(error: BaseException) -> Failure:
    return Failure(
        f"cannot reach Discord at {_address(error)}: {_os_reason(error)}.\n"
        "Check this machine's network connection and firewall, or discord.api_base_url if you "
        "changed it; then start the bot again.",
        ExitCode.UNREACHABLE,
    )


_ERRNO_REASONS = {
    errno.ECONNREFUSED: "the connection was refused",
    errno.ETIMEDOUT: "the connection timed out",
    errno.ENETUNREACH: "the network is unreachable",
    errno.EHOSTUNREACH: "there is no route to the host",
    errno.ECONNRESET: "the connection was reset",
}


def _os_reason(error: BaseException) -> str:
    os_error = getattr(error, "os_error", error)
    code = getattr(os_error, "errno", None)
    if code in _ERRNO_REASONS:
        return _ERRNO_REASONS[code]
    return getattr(os_error, "strerror", None) or str(error) or type(error).__name__


def _timeout(_: BaseException) -> Failure:
    return Failure(
        "cannot reach Discord: the connection timed out.\n"
        "Check this machine's network connection and firewall, then start the bot again.",
        ExitCode.UNREACHABLE,
    )


def _tool(error: BaseException) -> Failure:
    return Failure(str(error), ExitCode.TOOL_MODULE)


def _store(error: BaseException) -> Failure:
    return Failure(str(error), ExitCode.STORE)


def _config(error: BaseException) -> Failure:
    return Failure(str(error), ExitCode.CONFIG)


def _host(error: BaseException) -> str:
    key = getattr(error, "host", None)
    return str(key) if key else "(unknown host)"


def _address(error: BaseException) -> str:
    host, port = getattr(error, "host", None), getattr(error, "port", None)
    if not host:
        return "its address"
    return f"{host}:{port}" if port else str(host)


_EXPLAINERS: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], Explainer], ...] = (
    (discord.LoginFailure, _token),
    (discord.PrivilegedIntentsRequired, _intents),
    ((ToolLoadError, ToolDefinitionError), _tool),
    (StoreError, _store),
    (ConfigError, _config),
    (aiohttp.ClientConnectorDNSError, _dns),
    ((aiohttp.ClientConnectorSSLError, aiohttp.ClientConnectorCertificateError), _tls),
    (aiohttp.ClientConnectorError, _unreachable),
    (TimeoutError, _timeout),
)
