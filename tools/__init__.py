"""toolcord's typed tool framework: what a tool author needs.

Declare a tool with :func:`tool` (an async function whose first parameter is a
:class:`ToolContext`); attach files with ``ctx.attach`` (:class:`Artifact`); raise
:class:`ToolFailed` to tell the model a call failed, or :class:`ToolRetry` to ask it to call again
with other arguments; :class:`Permissions` names the Discord permissions a tool may require;
:class:`Dep` declares a typed dependency of your own that the bot provides on ``ctx.deps``.

The framework's machinery is imported from its modules: ``tools.registry`` (``ToolRegistry``),
``tools.dispatch`` (``Dispatcher``), ``tools.calls`` (calls, outcomes and their events),
``tools.ledger``, ``tools.schema`` and ``tools.errors``. Nothing here imports Discord or the bot;
built-in tool families (``tools.weather``...) import only this framework.
"""

from tools.context import Artifact, ToolContext
from tools.definition import tool
from tools.deps import Dep
from tools.errors import ToolFailed, ToolRetry
from tools.permissions import Permissions

__all__ = ["Artifact", "Dep", "Permissions", "ToolContext", "ToolFailed", "ToolRetry", "tool"]
