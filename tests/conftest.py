"""toolcord's own tests run on the defaults: a local config/bot.toml must not change them."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def toolcord_config() -> dict[str, Any]:
    """No owner config (the plugin's fixture would read this clone's git-ignored bot.toml)."""
    return {}
