"""Fixtures shared by the policy tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Store, open_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh SQLite store in the test's folder."""
    opened = await open_store(str(tmp_path / "toolcord.db"))
    yield opened
    await opened.close()
