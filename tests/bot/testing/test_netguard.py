"""The network guard refuses everything but loopback, and the plugin's guard is active."""

from __future__ import annotations

import socket

import pytest

from bot.testing.netguard import NetGuard, NetworkAccessDenied, is_loopback_host


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.6.7", "::1", "localhost", "::ffff:127.0.0.1"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host", ["10.0.0.1", "192.168.1.1", "8.8.8.8", "discord.com", "::ffff:8.8.8.8"]
)
def test_other_hosts(host: str) -> None:
    assert not is_loopback_host(host)


def test_guard_refuses_and_records_then_uninstalls() -> None:
    guard = NetGuard()
    original = socket.socket.connect
    guard.install()
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        with pytest.raises(NetworkAccessDenied):
            sock.connect(("192.0.2.1", 80))
        sock.close()
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("discord.com", 443)
        assert guard.take_violations() == ["connect to 192.0.2.1", "resolve discord.com"]
    finally:
        guard.uninstall()
    assert socket.socket.connect is original


@pytest.mark.allow_network
def test_the_session_guard_is_installed(toolcord_netguard: NetGuard) -> None:
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("api.openai.com", 443)
    assert toolcord_netguard.take_violations() == ["resolve api.openai.com"]
