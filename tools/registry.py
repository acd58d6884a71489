"""ToolRegistry: the tools a bot knows, and which of them a given context may use.

Built at start-up; only MCP servers change it afterwards (tools listed, relisted, removed).
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from collections.abc import Collection, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from tools.context import ToolContext
from tools.definition import Tool
from tools.errors import ToolDefinitionError, ToolLoadError
from tools.permissions import Permissions

FRAMEWORK_MODULES = frozenset(
    {
        "approval",
        "calls",
        "context",
        "definition",
        "dispatch",
        "docstrings",
        "errors",
        "http",
        "ledger",
        "mcp",
        "permissions",
        "registry",
        "schema",
        "signature",
    }
)
"""Modules of the ``tools`` framework itself (never scanned for built-in tools)."""
_FRAMEWORK_DIR = Path(__file__).resolve().parent


def builtin_tool_modules() -> list[str]:
    """Dotted names of the ``tools`` submodules/packages that define tools (sorted).

    Imports every candidate (framework modules and ``_private`` ones are skipped); modules
    without a top-level Tool, such as helper packages, are left out.

    Raises:
        ToolLoadError: If a candidate module fails to import.
    """
    package = importlib.import_module("tools")
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in FRAMEWORK_MODULES or info.name.startswith("_"):
            continue
        module = _import(f"tools.{info.name}")
        if _top_level_tools(vars(module)):
            found.append(module.__name__)
    return sorted(found)


def _import(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as error:
        if error.name is None or not _is_part_of(module, error.name):
            raise ToolLoadError(_import_failed(module, error)) from error
        raise ToolLoadError(
            f"No tool module named {module!r} (tools.modules names it). Check the spelling, and "
            "run toolcord from the folder that contains it or put that folder on PYTHONPATH."
        ) from error
    except ToolDefinitionError as error:
        raise ToolLoadError(
            f"Tool module {module!r} defines a tool toolcord cannot use"
            f"{_where(error, definition=True)}: {_sentence(error)} Fix that definition."
        ) from error
    except Exception as error:
        raise ToolLoadError(_import_failed(module, error)) from error


def _import_failed(module: str, error: BaseException) -> str:
    return (
        f"Tool module {module!r} failed to import{_where(error, definition=False)}: "
        f"{type(error).__name__}: {_sentence(error)} Fix the module's code or its imports."
    )


def _is_part_of(module: str, missing: str) -> bool:
    """True when ``missing`` is ``module`` itself or one of its parent packages."""
    return module == missing or module.startswith(missing + ".")


def _sentence(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if text.endswith((".", "!", "?")) else text + "."


def _where(error: BaseException, *, definition: bool) -> str:
    """`` (at file:line)``: the deepest frame outside importlib (and the framework, if asked)."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if not frame.filename.startswith("<") and not (definition and _in_framework(frame))
    ]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (at {_short_path(frame.filename)}:{frame.lineno})"


def _in_framework(frame: traceback.FrameSummary) -> bool:
    path = Path(frame.filename).resolve()
    return path.parent == _FRAMEWORK_DIR and path.stem in FRAMEWORK_MODULES | {"__init__"}


def _short_path(filename: str) -> str:
    path = Path(filename)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class ToolRegistry:
    """Named tools; built once at start-up and shared (read-only afterwards)."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.register(item)

    def register(self, tool: Tool) -> Tool:
        """Add ``tool``; registering the same object twice is a no-op.

        Raises:
            ValueError: If a different tool already has this name.
        """
        existing = self._tools.get(tool.name)
        if existing is not None and existing is not tool:
            raise ValueError(
                f"Two tools are named {tool.name!r} ({existing.fn.__module__} and "
                f"{tool.fn.__module__}); rename one with @tool(name=...)."
            )
        self._tools[tool.name] = tool
        return tool

    def replace(self, tool: Tool) -> Tool:
        """Add ``tool``, replacing any tool of the same name (MCP servers relisting tools)."""
        self._tools[tool.name] = tool
        return tool

    def unregister(self, name: str) -> None:
        """Remove the tool called ``name`` if present (an MCP server stopped listing it)."""
        self._tools.pop(name, None)

    def load_module(self, module: str) -> list[Tool]:
        """Import ``module`` and register every Tool object at its top level.

        Raises:
            ToolLoadError: If the module cannot be imported or defines no tools.
        """
        loaded = _import(module)
        found = _top_level_tools(vars(loaded))
        if not found:
            raise ToolLoadError(
                f"Tool module {module!r} defines no tools at its top level; decorate its async "
                "functions with @tool (from tools import tool)."
            )
        return [self.register(item) for item in found]

    def load_builtins(self) -> list[Tool]:
        """Load every built-in tool module (see :func:`builtin_tool_modules`)."""
        loaded: list[Tool] = []
        for module in builtin_tool_modules():
            loaded.extend(self.load_module(module))
        return loaded

    def get(self, name: str) -> Tool | None:
        """The tool called ``name``, or None."""
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def all(self) -> list[Tool]:
        """Every tool in registration order."""
        return list(self._tools.values())

    def names(self) -> list[str]:
        """Every tool name in registration order."""
        return list(self._tools)

    def available(self, ctx: ToolContext, enabled: Collection[str] | None = None) -> list[Tool]:
        """The tools ``ctx`` may use, optionally narrowed to the ``enabled`` names."""
        return [t for t in self._tools.values() if unavailable_reason(t, ctx, enabled) is None]

    def openai_tools(self, tools: Iterable[Tool] | None = None) -> list[dict[str, Any]]:
        """Chat Completions ``tools`` entries for ``tools`` (default: all registered)."""
        chosen = self._tools.values() if tools is None else tools
        return [item.openai_schema() for item in chosen]


def unavailable_reason(
    tool: Tool, ctx: ToolContext, enabled: Collection[str] | None = None
) -> str | None:
    """Why ``ctx`` may not use ``tool`` (a sentence for the model), or None if it may."""
    if enabled is not None and tool.name not in enabled:
        return "it is not enabled here"
    if tool.owner_only and not ctx.is_owner:
        return "only the bot's owner may use it"
    if tool.guild_only and not ctx.in_guild:
        return "it only works in a server, not in direct messages"
    if tool.required_permissions:
        if not ctx.in_guild:
            return "it needs server permissions, which do not exist in direct messages"
        granted = ctx.member_permissions or Permissions()
        missing = granted.missing(*tool.required_permissions)
        if missing:
            return f"the user lacks the permission(s): {', '.join(missing)}"
    return None


def _top_level_tools(namespace: dict[str, Any]) -> list[Tool]:
    seen: set[int] = set()
    found: list[Tool] = []
    for value in namespace.values():
        if isinstance(value, Tool) and id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    return found
