"""Fixtures for the safe fetcher tests: a running fake web site and policies around it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.testing.fakes.web import FakeWeb
from tools.net import FetchPolicy


@pytest.fixture
async def fake_web() -> AsyncIterator[FakeWeb]:
    """A running hostile fake web site on 127.0.0.1."""
    async with FakeWeb() as site:
        yield site


@pytest.fixture
def loopback_policy(fake_web: FakeWeb) -> FetchPolicy:
    """A policy that allows exactly the fake site: 127.0.0.1/32 and its port."""
    return FetchPolicy(allow_networks=("127.0.0.1/32",), allow_ports=(fake_web.port,))


@pytest.fixture
def port_only_policy(fake_web: FakeWeb) -> FetchPolicy:
    """The default deny policy, plus the fake site's port (so only the address check stops)."""
    return FetchPolicy(allow_ports=(fake_web.port,))
