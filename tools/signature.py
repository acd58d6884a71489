"""Turn a tool function's signature into the pydantic model that validates its arguments."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PydanticUserError, create_model
from pydantic.errors import PydanticSchemaGenerationError
from pydantic.fields import FieldInfo
from pydantic_core import SchemaError

from tools.context import ToolContext
from tools.docstrings import parse_docstring
from tools.errors import ToolDefinitionError


class ToolParams(BaseModel):
    """Base of the argument models built from function signatures (unknown keys rejected)."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class FunctionShape:
    """What the framework learned from a tool function.

    Attributes:
        params_model: Validates the model's arguments.
        takes_context: The first parameter is a ToolContext to inject.
        model_style: The function takes the validated model itself, not keyword arguments.
        description: The function's docstring without its Args/Returns sections.
    """

    params_model: type[BaseModel]
    takes_context: bool
    model_style: bool
    description: str


def _is_context(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, ToolContext)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _has_description(annotation: Any, default: Any) -> bool:
    if isinstance(default, FieldInfo) and default.description:
        return True
    if typing.get_origin(annotation) is Annotated:
        metadata = typing.get_args(annotation)[1:]
        return any(isinstance(m, FieldInfo) and m.description for m in metadata)
    return False


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("-", "_").split("_")) or "Tool"


def inspect_function(fn: Callable[..., Any], tool_name: str) -> FunctionShape:
    """Analyse ``fn``: context injection, argument model and description.

    Raises:
        ToolDefinitionError: For missing annotations, ``*args``/``**kwargs``, positional-only
            parameters or types pydantic cannot validate, naming the tool and parameter.
    """
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except (NameError, TypeError) as error:
        raise ToolDefinitionError(
            f"Tool {tool_name!r}: cannot resolve the type hints of {fn.__qualname__} ({error}); "
            "define the types it uses at module level."
        ) from error
    parameters = list(inspect.signature(fn).parameters.values())
    takes_context = bool(parameters) and _is_context(hints.get(parameters[0].name))
    if takes_context:
        parameters = parameters[1:]
    for parameter in parameters:
        _check_parameter(parameter, hints, tool_name)
    docs = parse_docstring(fn.__doc__)
    if len(parameters) == 1 and _is_model(hints[parameters[0].name]):
        model = hints[parameters[0].name]
        return FunctionShape(model, takes_context, True, docs.description)
    model = _build_model(tool_name, fn, parameters, hints, docs.params)
    return FunctionShape(model, takes_context, False, docs.description)


def _check_parameter(parameter: inspect.Parameter, hints: dict[str, Any], tool_name: str) -> None:
    where = f"Tool {tool_name!r}, parameter {parameter.name!r}"
    if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
        raise ToolDefinitionError(f"{where}: *args and **kwargs cannot be described to the model.")
    if parameter.kind is parameter.POSITIONAL_ONLY:
        raise ToolDefinitionError(f"{where}: positional-only parameters are not supported.")
    if parameter.name not in hints:
        raise ToolDefinitionError(f"{where}: needs a type annotation.")
    if _is_context(hints[parameter.name]):
        raise ToolDefinitionError(f"{where}: the ToolContext must be the first parameter.")
    if parameter.name.startswith("_"):
        raise ToolDefinitionError(f"{where}: names starting with '_' cannot be arguments.")


def _build_model(
    tool_name: str,
    fn: Callable[..., Any],
    parameters: list[inspect.Parameter],
    hints: dict[str, Any],
    doc_params: dict[str, str],
) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for parameter in parameters:
        annotation = hints[parameter.name]
        default = ... if parameter.default is inspect.Parameter.empty else parameter.default
        doc = doc_params.get(parameter.name)
        if doc and not _has_description(annotation, default):
            annotation = Annotated[annotation, Field(description=doc)]
        fields[parameter.name] = (annotation, default)
    try:
        return create_model(
            f"{_pascal(tool_name)}Params",
            __base__=ToolParams,
            __module__=fn.__module__,
            **fields,
        )
    except (
        PydanticSchemaGenerationError,
        PydanticUserError,
        SchemaError,
        TypeError,
        ValueError,
    ) as error:
        raise ToolDefinitionError(
            f"Tool {tool_name!r}: its parameters cannot be validated by pydantic: {error}"
        ) from error
