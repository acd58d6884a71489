"""Exceptions of the tools framework.

Two of them are raised by tools while they run and decide what the model is told:

* :class:`ToolRetry` - the model called the tool wrongly and should fix the call (counted against
  the tool's retry budget for the turn).
* :class:`ToolFailed` - a terminal failure the model should adapt to (e.g. "the weather service is
  down"); its message is shown to the model verbatim, so it must be safe to show.

The others are raised at definition or load time and are meant for the bot's owner.
"""

from __future__ import annotations


class ToolRetry(Exception):
    """Raised by a tool when the model should correct its call and try again.

    Args:
        message: What the model must change, written for the model.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ToolFailed(Exception):
    """Raised by a tool for a terminal failure; the message is shown to the model as is.

    Args:
        message: A model-safe explanation (no secrets, paths or stack traces).
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ToolDefinitionError(TypeError):
    """A tool is declared in a way the framework cannot turn into a strict tool.

    The bot owner who wrote the tool must fix its signature, model or options.
    """


class StrictSchemaError(ToolDefinitionError):
    """A JSON schema cannot be expressed in OpenAI's strict mode."""


class ToolLoadError(ImportError):
    """A tool module could not be imported or defines no tools.

    The bot owner must fix the module path in the settings or the module itself.
    """


class ArgumentsNotJSON(ValueError):
    """The model's raw arguments are not a JSON object; the message says why."""
