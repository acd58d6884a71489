"""The Tool object and the ``@tool`` decorator."""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any, overload

from pydantic import BaseModel

from tools.approval import DEFAULT_POLICY, ApprovalPolicy
from tools.context import ToolContext
from tools.errors import ArgumentsNotJSON, ToolDefinitionError
from tools.permissions import Permissions
from tools.schema import apply_null_defaults, strict_json_schema
from tools.signature import inspect_function

ToolFunction = Callable[..., Awaitable[Any]]

DEFAULT_TIMEOUT_S = 30.0
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PROGRESS_VALUE_LIMIT = 80


@dataclass(frozen=True, eq=False)
class Tool:
    """A typed tool the model can call.

    Build one with :func:`tool` or :meth:`Tool.from_model`; the constructor validates the
    options and computes the strict schema eagerly, so a bad tool fails when its module loads.

    Attributes:
        name: Name the model calls (``[A-Za-z0-9_-]{1,64}``).
        description: What the model reads to decide when and how to call the tool.
        params_model: Pydantic model validating the arguments locally.
        fn: The async function that does the work.
        takes_context: ``fn``'s first parameter receives the :class:`ToolContext`.
        model_style: ``fn`` receives the validated model instead of keyword arguments.
        guild_only: Refused in DMs.
        owner_only: Only the bot owner may use it.
        required_permissions: Discord permission names the invoking member needs.
        side_effects: Changes the world (runs alone, recorded in the ledger, never repeated).
        approval: The call waits for the invoker's approval (see ``tools/approval.py``):
            True, or an :class:`~tools.approval.ApprovalPolicy`; implies ``side_effects``.
        timeout: Seconds before the call is stopped and reported as timed out.
        max_retries: Bad calls allowed per turn before "stop calling"; None = dispatcher's.
        progress: Format string over the arguments shown while the tool runs.
        family: Settings section of the tool (default: last part of its module name).
        files: Files one call may attach: a number, or the name of the integer argument that
            says how many (e.g. ``"n"``). The dispatcher refuses a call whose files would not
            fit in the answer, before it runs.
        parameters: The strict JSON schema of the arguments (computed).
    """

    name: str
    description: str
    params_model: type[BaseModel]
    fn: ToolFunction
    takes_context: bool = True
    model_style: bool = False
    guild_only: bool = False
    owner_only: bool = False
    required_permissions: tuple[str, ...] = ()
    side_effects: bool = False
    approval: bool | ApprovalPolicy = False
    timeout: float = DEFAULT_TIMEOUT_S
    max_retries: int | None = None
    progress: str | None = None
    family: str = ""
    files: int | str = 0
    parameters: dict[str, Any] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        where = f"Tool {self.name!r}"
        if not _NAME.match(self.name):
            raise ToolDefinitionError(f"{where}: the name must match {_NAME.pattern}.")
        if not self.description.strip():
            raise ToolDefinitionError(
                f"{where}: write a docstring or pass description=; it is what the model reads."
            )
        if not inspect.iscoroutinefunction(self.fn):
            raise ToolDefinitionError(f"{where}: the tool function must be 'async def'.")
        if self.timeout <= 0:
            raise ToolDefinitionError(f"{where}: timeout must be positive seconds.")
        if self.max_retries is not None and self.max_retries < 0:
            raise ToolDefinitionError(f"{where}: max_retries must be 0 or more.")
        try:
            Permissions.check_names(self.required_permissions)
        except ValueError as error:
            raise ToolDefinitionError(f"{where}: {error}") from None
        if self.approval and not self.side_effects:
            object.__setattr__(self, "side_effects", True)
        if isinstance(self.files, str) and self.files not in self.params_model.model_fields:
            raise ToolDefinitionError(f"{where}: files names no argument {self.files!r}.")
        if isinstance(self.files, int) and self.files < 0:
            raise ToolDefinitionError(f"{where}: files must be 0 or more.")
        schema = strict_json_schema(self.params_model)
        object.__setattr__(self, "parameters", schema)
        if not self.family:
            object.__setattr__(self, "family", self.fn.__module__.rsplit(".", 1)[-1])

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_function(cls, fn: ToolFunction, **options: Any) -> Tool:
        """Declare a tool from an async function's signature (what ``@tool`` does)."""
        name = options.pop("name", None) or fn.__name__
        shape = inspect_function(fn, name)
        description = options.pop("description", None) or shape.description
        return cls(
            name=name,
            description=description,
            params_model=shape.params_model,
            fn=fn,
            takes_context=shape.takes_context,
            model_style=shape.model_style,
            **_normalise(options),
        )

    @classmethod
    def from_model(cls, model: type[BaseModel], fn: ToolFunction, **options: Any) -> Tool:
        """Declare a tool whose arguments are ``model``; ``fn(ctx, params)`` or ``fn(params)``.

        The description defaults to ``fn``'s docstring, then the model's docstring.
        """
        name = options.pop("name", None) or fn.__name__
        shape = inspect_function(fn, name)
        description = options.pop("description", None) or shape.description
        return cls(
            name=name,
            description=description or inspect.cleandoc(model.__doc__ or ""),
            params_model=model,
            fn=fn,
            takes_context=shape.takes_context,
            model_style=True,
            **_normalise(options),
        )

    # ------------------------------------------------------------------ use

    def files_of(self, params: BaseModel) -> int:
        """How many files a call with ``params`` may attach (its declared ``files``)."""
        if isinstance(self.files, int):
            return self.files
        value = getattr(params, self.files, 0)
        return value if isinstance(value, int) and value > 0 else 0

    def openai_schema(self) -> dict[str, Any]:
        """The Chat Completions ``tools`` entry: a strict function tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters),
                "strict": True,
            },
        }

    def parse_arguments(self, raw: str) -> BaseModel:
        """Validate the model's raw JSON arguments.

        Raises:
            ArgumentsNotJSON: If ``raw`` is not a JSON object.
            pydantic.ValidationError: If the object breaks the parameter model.
        """
        try:
            data = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as error:
            raise ArgumentsNotJSON(f"invalid JSON: {error.msg} at position {error.pos}") from None
        if not isinstance(data, dict):
            raise ArgumentsNotJSON(f"expected a JSON object, got {type(data).__name__}")
        return self.params_model.model_validate(apply_null_defaults(self.params_model, data))

    @property
    def approval_policy(self) -> ApprovalPolicy | None:
        """How calls are approved (None: they run without asking)."""
        if isinstance(self.approval, ApprovalPolicy):
            return self.approval
        return DEFAULT_POLICY if self.approval else None

    @staticmethod
    def canonical_arguments(params: BaseModel) -> str:
        """Validated arguments as canonical JSON (sorted keys), e.g. for ledger keys."""
        dumped = params.model_dump(mode="json")
        return json.dumps(dumped, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def progress_text(self, params: BaseModel | None) -> str:
        """What to show the user while the tool runs."""
        fallback = f"Running {self.name}..."
        if self.progress is None or params is None:
            return fallback
        values = {k: _short(v) for k, v in params.model_dump().items()}
        try:
            return self.progress.format_map(values)
        except (KeyError, IndexError, ValueError, AttributeError):
            return fallback

    async def invoke(self, ctx: ToolContext, params: BaseModel) -> Any:
        """Run the tool function with validated arguments."""
        leading = (ctx,) if self.takes_context else ()
        if self.model_style:
            return await self.fn(*leading, params)
        kwargs = {name: getattr(params, name) for name in type(params).model_fields}
        return await self.fn(*leading, **kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """Call the underlying function directly (no validation), e.g. in unit tests."""
        return self.fn(*args, **kwargs)


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _PROGRESS_VALUE_LIMIT:
        return value[: _PROGRESS_VALUE_LIMIT - 1] + "…"
    return value


def _normalise(options: dict[str, Any]) -> dict[str, Any]:
    known = {
        "guild_only",
        "owner_only",
        "required_permissions",
        "side_effects",
        "approval",
        "timeout",
        "max_retries",
        "progress",
        "family",
        "files",
    }
    unknown = set(options) - known
    if unknown:
        raise ToolDefinitionError(f"Unknown tool options {sorted(unknown)}; use {sorted(known)}.")
    if "required_permissions" in options:
        permissions = options["required_permissions"]
        if isinstance(permissions, str):
            permissions = (permissions,)
        options["required_permissions"] = tuple(permissions)
    return options


@overload
def tool(fn: ToolFunction, /) -> Tool: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    guild_only: bool = False,
    owner_only: bool = False,
    required_permissions: Collection[str] = (),
    side_effects: bool = False,
    approval: bool | ApprovalPolicy = False,
    timeout: float = DEFAULT_TIMEOUT_S,
    max_retries: int | None = None,
    progress: str | None = None,
    family: str | None = None,
    files: int | str | None = None,
) -> Callable[[ToolFunction], Tool]: ...


def tool(
    fn: ToolFunction | None = None, /, **options: Any
) -> Tool | Callable[[ToolFunction], Tool]:
    """Declare an async function as a tool; usable bare (``@tool``) or with options.

    The docstring is the description the model reads (a Google ``Args:`` section fills in
    parameter descriptions). A first parameter typed :class:`ToolContext` is injected and never
    shown to the model. A function taking a single pydantic model gets that model as its schema.
    """
    options = {key: value for key, value in options.items() if value is not None}

    def decorate(function: ToolFunction) -> Tool:
        return Tool.from_function(function, **dict(options))

    return decorate(fn) if fn is not None else decorate
