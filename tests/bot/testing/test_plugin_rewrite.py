"""The test kit's plugin keeps pytest from rewriting the bot's own modules."""

from __future__ import annotations

import importlib
import sys

from _pytest.assertion.rewrite import AssertionRewritingHook


def _rewrite_hook() -> AssertionRewritingHook:
    hooks = [finder for finder in sys.meta_path if isinstance(finder, AssertionRewritingHook)]
    assert hooks, "pytest's assertion rewriting is off in this run"
    return hooks[0]


def test_extensions_load_without_assertion_rewriting() -> None:
    hook = _rewrite_hook()

    for module in ("cogs.commands", "cogs.chat", "bot.conversation", "tools.weather"):
        package = importlib.import_module(module.rpartition(".")[0])
        assert hook.find_spec(module, package.__path__) is None, module


def test_test_modules_are_still_rewritten() -> None:
    assert "@py_builtins" in globals()  # what pytest adds to the modules it rewrote
