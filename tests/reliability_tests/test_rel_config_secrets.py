"""Secrets in the config file: every placement refused, naming the env var; controls load."""

from __future__ import annotations

import os

import pytest

from tests.reliability.config_secrets import config_secrets_ok, placements, run_config_secrets


def test_every_secret_placement_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TOOLCORD_"):
            monkeypatch.delenv(name)
    figures = run_config_secrets()

    assert figures["placements"] == len(placements()) >= 80
    assert figures["accepted"] == 0, figures
    assert figures["refusals_without_env_name"] == 0, figures
    assert figures["refusals_repeating_the_secret"] == 0, figures
    assert figures["controls_refused"] == 0, figures
    assert config_secrets_ok(figures)
