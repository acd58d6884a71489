"""toolcord's typed tool framework.

Declare tools with :func:`tool`, collect them in a :class:`ToolRegistry`, and answer the model's
tool calls with a :class:`Dispatcher` (one per conversation turn). Nothing here imports Discord
or the bot; built-in tool families (``tools.weather``...) import only this framework.
"""

from tools.calls import (
    OutcomeStatus,
    ToolCall,
    ToolEvent,
    ToolFinished,
    ToolOutcome,
    ToolProgress,
    ToolStarted,
)
from tools.context import Artifact, ToolContext
from tools.definition import Tool, tool
from tools.dispatch import Dispatcher
from tools.errors import (
    StrictSchemaError,
    ToolDefinitionError,
    ToolFailed,
    ToolLoadError,
    ToolRetry,
)
from tools.ledger import InMemoryLedger, Ledger, SideEffectRecord, ledger_key
from tools.permissions import Permissions
from tools.registry import ToolRegistry, builtin_tool_modules, unavailable_reason
from tools.schema import assert_strict_schema, assert_strict_tool, strict_json_schema

__all__ = [
    "Artifact",
    "Dispatcher",
    "InMemoryLedger",
    "Ledger",
    "OutcomeStatus",
    "Permissions",
    "SideEffectRecord",
    "StrictSchemaError",
    "Tool",
    "ToolCall",
    "ToolContext",
    "ToolDefinitionError",
    "ToolEvent",
    "ToolFailed",
    "ToolFinished",
    "ToolLoadError",
    "ToolOutcome",
    "ToolProgress",
    "ToolRegistry",
    "ToolRetry",
    "ToolStarted",
    "assert_strict_schema",
    "assert_strict_tool",
    "builtin_tool_modules",
    "ledger_key",
    "strict_json_schema",
    "tool",
    "unavailable_reason",
]
