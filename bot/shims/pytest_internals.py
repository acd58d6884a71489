"""pytest's internals toolcord's test kit relies on, with the public path it falls back to.

- ``config.pluginmanager.rewrite_hook._must_rewrite``: the set of module names pytest rewrites
  for assertions. pytest marks every package of a distribution with a ``pytest11`` entry point
  (toolcord's test kit), so without this the bot's own modules would be imported through the
  rewriter: slower imports, assertion introspection inside runtime asserts (e.g.
  ``tools.schema.assert_strict_tool``'s messages would change), and on CPython 3.11 before 3.11.8
  (gh-106905) an "AST constructor recursion depth mismatch". pytest has ``mark_rewrite`` but no
  public way to unmark. Public path when the set is gone: nothing is unmarked and the modules
  are rewritten, which is correct but slower; :func:`unmark_for_rewrite` returns False then.

``tests/bot/shims/test_pytest_internals.py`` fails when the installed pytest loses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def unmark_for_rewrite(config: Any, packages: Iterable[str]) -> bool:
    """Stop pytest from rewriting ``packages`` (and their submodules) from now on.

    Must run before the first of them is imported (the plugin does it before the initial
    conftests load). Returns False, changing nothing, when pytest keeps no such set.
    """
    hook = getattr(config.pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    if not isinstance(marked, set):
        return False
    marked.difference_update(packages)
    return True
