"""pytest's rewrite set, emptied of the bot's packages by bot/shims/pytest_internals."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from _pytest.assertion.rewrite import AssertionRewritingHook

from bot.shims.pytest_internals import unmark_for_rewrite


def test_pytest_still_keeps_the_names_it_rewrites_in_a_set(pytestconfig: pytest.Config) -> None:
    hook = pytestconfig.pluginmanager.rewrite_hook
    assert isinstance(hook, AssertionRewritingHook)
    assert isinstance(hook._must_rewrite, set)  # the shim's reliance: fails when pytest changes


def test_the_bot_s_modules_are_imported_without_rewriting() -> None:
    import tools.schema

    assert not isinstance(tools.schema.__loader__, AssertionRewritingHook)
    assert "bot.testing.plugin" in sys.modules


def test_unmarking_removes_exactly_the_named_packages() -> None:
    marked = {"bot", "tools", "hypothesis"}
    config = SimpleNamespace(
        pluginmanager=SimpleNamespace(rewrite_hook=SimpleNamespace(_must_rewrite=marked))
    )
    assert unmark_for_rewrite(config, ("bot", "tools", "cogs")) is True
    assert marked == {"hypothesis"}


def test_without_the_set_nothing_is_unmarked_and_it_says_so() -> None:
    config = SimpleNamespace(pluginmanager=SimpleNamespace(rewrite_hook=SimpleNamespace()))
    assert unmark_for_rewrite(config, ("bot",)) is False
