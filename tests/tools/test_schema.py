"""Signatures and pydantic models -> strict schemas, and local validation of arguments."""

from __future__ import annotations

import datetime as dt
import enum
import json
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from pydantic import AnyUrl, BaseModel, Field, TypeAdapter, ValidationError, create_model

from tools import ToolContext, tool
from tools.definition import Tool
from tools.errors import ArgumentsNotJSON, StrictSchemaError, ToolDefinitionError
from tools.schema import (
    apply_null_defaults,
    assert_strict_schema,
    strict_json_schema,
    strict_schema_problems,
    to_strict_schema,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    """A postal address."""

    street: str = Field(description="Street and number")
    city: str
    country: str = "FR"


class Order(BaseModel):
    """Order some items."""

    items: list[Address]
    note: str | None = None
    express: bool = False


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool = True


class Pets(BaseModel):
    pet: Cat | Dog = Field(discriminator="kind")


def props(t: Tool) -> dict[str, Any]:
    return t.parameters["properties"]


def keys_of(node: Any) -> set[str]:
    """Every keyword used anywhere in a schema (property names excluded)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for sub in value.values():
                    found |= keys_of(sub)
            else:
                found.add(key)
                found |= keys_of(value)
    elif isinstance(node, list):
        for item in node:
            found |= keys_of(item)
    return found


def test_simple_signature_is_strict_and_excludes_context() -> None:
    @tool
    async def add(ctx: ToolContext, a: int, b: float, label: str, loud: bool) -> str:
        """Add numbers."""
        return ""

    schema = add.parameters
    assert_strict_schema(schema)
    assert schema["required"] == ["a", "b", "label", "loud"]
    assert schema["additionalProperties"] is False
    assert [props(add)[k]["type"] for k in schema["required"]] == [
        "integer",
        "number",
        "string",
        "boolean",
    ]
    assert add.takes_context and not add.model_style
    assert "ctx" not in schema["properties"]


def test_tool_without_context_parameter() -> None:
    @tool
    async def ping(message: str) -> str:
        """Echo."""
        return message

    assert not ping.takes_context
    assert list(props(ping)) == ["message"]


def test_descriptions_from_field_and_docstring_args() -> None:
    @tool
    async def lookup(
        ctx: ToolContext,
        query: Annotated[str, Field(description="What to look up")],
        limit: int,
    ) -> str:
        """Look something up.

        Use it for facts.

        Args:
            query: Ignored because Field has a description.
            limit: How many results,
                at most.

        Returns:
            Text.
        """
        return ""

    assert lookup.description == "Look something up.\n\nUse it for facts."
    assert props(lookup)["query"]["description"] == "What to look up"
    assert props(lookup)["limit"]["description"] == "How many results, at most."


def test_literal_and_enum_become_enums() -> None:
    @tool
    async def paint(
        ctx: ToolContext, color: Color, finish: Literal["matte", "gloss"], shade: Color = Color.RED
    ) -> str:
        """Paint."""
        return ""

    schema = paint.parameters
    assert_strict_schema(schema)
    assert props(paint)["finish"] == {"type": "string", "enum": ["matte", "gloss"]}
    assert props(paint)["color"] == {"$ref": "#/$defs/Color"}
    assert schema["$defs"]["Color"]["enum"] == ["red", "blue"]
    shade = props(paint)["shade"]
    assert shade["anyOf"] == [{"$ref": "#/$defs/Color"}, {"type": "null"}]
    assert '"red"' in shade["description"]
    params = paint.parse_arguments('{"color":"blue","finish":"matte","shade":null}')
    assert params.shade is Color.RED  # type: ignore[attr-defined]


def test_optional_none_default_is_nullable_without_default_keyword() -> None:
    @tool
    async def greet(ctx: ToolContext, name: str | None = None) -> str:
        """Greet."""
        return ""

    name = props(greet)["name"]
    assert name == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert greet.parse_arguments('{"name": null}').name is None  # type: ignore[attr-defined]


def test_non_none_default_is_nullable_and_applied_locally() -> None:
    @tool
    async def forecast(
        ctx: ToolContext,
        units: Literal["metric", "imperial"] = "metric",
        days: Annotated[int, Field(ge=1, le=7)] = 1,
    ) -> str:
        """Forecast."""
        return ""

    days = props(forecast)["days"]
    assert days["anyOf"] == [{"type": "integer", "minimum": 1, "maximum": 7}, {"type": "null"}]
    assert "default: 1" in days["description"]
    assert "null means the default" in days["description"]
    assert "default" not in keys_of(forecast.parameters)
    params = forecast.parse_arguments('{"units": null, "days": null}')
    assert (params.units, params.days) == ("metric", 1)  # type: ignore[attr-defined]
    params = forecast.parse_arguments("{}")
    assert (params.units, params.days) == ("metric", 1)  # type: ignore[attr-defined]


def test_constraints_move_to_description_but_are_enforced() -> None:
    @tool
    async def post(
        ctx: ToolContext,
        title: Annotated[str, Field(min_length=3, max_length=10, description="Title")],
        tags: set[str],
        link: AnyUrl,
        code: Annotated[str, Field(pattern=r"^[A-Z]{3}$")],
        when: dt.datetime,
    ) -> str:
        """Post."""
        return ""

    p = props(post)
    assert_strict_schema(post.parameters)
    assert "minLength" not in p["title"] and "maxLength" not in p["title"]
    assert p["title"]["description"] == "Title (maxLength: 10; minLength: 3)"
    assert "uniqueItems" not in p["tags"] and "uniqueItems: true" in p["tags"]["description"]
    assert "format" not in p["link"] and "format: uri" in p["link"]["description"]
    assert p["code"]["pattern"] == "^[A-Z]{3}$"
    assert p["when"]["format"] == "date-time"
    good = {
        "title": "Hello",
        "tags": ["a"],
        "link": "https://x.test",
        "code": "ABC",
        "when": "2025-01-01T00:00:00Z",
    }
    post.parse_arguments(json.dumps(good))
    for key, bad in [("title", "no"), ("title", "x" * 11), ("link", "nope"), ("code", "abc")]:
        with pytest.raises(ValidationError):
            post.parse_arguments(json.dumps({**good, key: bad}))


def test_nested_models_lists_and_defs() -> None:
    @tool
    async def ship(ctx: ToolContext, order: Order, backup: Address | None = None) -> str:
        """Ship an order."""
        return ""

    schema = ship.parameters
    assert_strict_schema(schema)
    address = schema["$defs"]["Address"]
    assert address["additionalProperties"] is False
    assert address["required"] == ["street", "city", "country"]
    assert address["properties"]["country"]["anyOf"][1] == {"type": "null"}
    assert schema["$defs"]["Order"]["properties"]["items"]["items"] == {"$ref": "#/$defs/Address"}
    raw = {
        "order": {
            "items": [{"street": "1 Rue", "city": "Paris", "country": None}],
            "note": None,
            "express": None,
        },
        "backup": None,
    }
    params = ship.parse_arguments(json.dumps(raw))
    assert params.order.items[0].country == "FR"  # type: ignore[attr-defined]
    assert params.order.express is False  # type: ignore[attr-defined]


def test_model_style_tool_via_decorator_and_from_model() -> None:
    @tool(name="place_order")
    async def place(ctx: ToolContext, params: Order) -> str:
        """Place an order for the user."""
        return str(len(params.items))

    assert place.model_style and place.params_model is Order
    assert place.description == "Place an order for the user."
    assert set(place.parameters["properties"]) == {"items", "note", "express"}

    async def handler(params: Order) -> str:
        return "ok"

    from_model = Tool.from_model(Order, handler, side_effects=True)
    assert from_model.name == "handler"
    assert from_model.description == "Order some items."
    assert from_model.side_effects and not from_model.takes_context
    assert_strict_schema(from_model.parameters)


def test_discriminated_union_becomes_anyof() -> None:
    schema = strict_json_schema(Pets)
    assert_strict_schema(schema)
    pet = schema["properties"]["pet"]
    assert [a["$ref"] for a in pet["anyOf"]] == ["#/$defs/Cat", "#/$defs/Dog"]
    assert schema["$defs"]["Cat"]["properties"]["kind"] == {"type": "string", "enum": ["cat"]}
    assert "discriminator" not in json.dumps(schema)


def test_parse_arguments_errors() -> None:
    @tool
    async def one(ctx: ToolContext, n: int) -> str:
        """One."""
        return ""

    with pytest.raises(ArgumentsNotJSON, match="invalid JSON"):
        one.parse_arguments('{"n": ')
    with pytest.raises(ArgumentsNotJSON, match="JSON object"):
        one.parse_arguments("[1]")
    with pytest.raises(ValidationError, match="Extra inputs"):
        one.parse_arguments('{"n": 1, "m": 2}')
    with pytest.raises(ValidationError):
        one.parse_arguments('{"n": "many"}')


def test_empty_arguments_for_parameterless_tool() -> None:
    @tool
    async def now(ctx: ToolContext) -> str:
        """Time."""
        return ""

    assert now.parameters == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }
    now.parse_arguments("")
    assert_strict_schema(now.parameters)


async def _dict_param(ctx: ToolContext, data: dict[str, int]) -> str:
    """Bad."""
    return ""


async def _tuple_param(ctx: ToolContext, pair: tuple[int, int]) -> str:
    """Bad."""
    return ""


async def _any_param(ctx: ToolContext, value: Any) -> str:
    """Bad."""
    return ""


async def _unannotated(ctx: ToolContext, value) -> str:  # type: ignore[no-untyped-def]
    """Bad."""
    return ""


async def _varargs(ctx: ToolContext, *values: int) -> str:
    """Bad."""
    return ""


async def _context_late(value: int, ctx: ToolContext) -> str:
    """Bad."""
    return ""


async def _no_doc(ctx: ToolContext) -> str:
    return ""


def _sync(ctx: ToolContext) -> str:
    """Bad."""
    return ""


@pytest.mark.parametrize(
    ("fn", "options", "error", "fragment"),
    [
        (_dict_param, {}, StrictSchemaError, "open objects"),
        (_tuple_param, {}, StrictSchemaError, "prefixItems"),
        (_any_param, {}, StrictSchemaError, "concrete type"),
        (_unannotated, {}, ToolDefinitionError, "needs a type annotation"),
        (_varargs, {}, ToolDefinitionError, "*args"),
        (_context_late, {}, ToolDefinitionError, "must be the first parameter"),
        (_no_doc, {}, ToolDefinitionError, "docstring"),
        (_sync, {}, ToolDefinitionError, "async def"),
        (_no_doc, {"name": "bad name!", "description": "x"}, ToolDefinitionError, "name"),
        (
            _no_doc,
            {"description": "x", "required_permissions": ["fly"]},
            ToolDefinitionError,
            "Unknown permission",
        ),
        (_no_doc, {"description": "x", "timeout": 0}, ToolDefinitionError, "timeout"),
    ],
)
def test_bad_definitions_fail_loudly(
    fn: Any, options: dict[str, Any], error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match=None) as caught:
        tool(**options)(fn)
    assert fragment in str(caught.value)


def test_const_and_oneof_conversion_of_foreign_schema() -> None:
    foreign = {
        "type": "object",
        "title": "Foreign",
        "properties": {
            "mode": {"const": "fast"},
            "ref": {"type": "string", "pattern": "^(?!x)\\w+$"},
            "size": {"oneOf": [{"type": "integer"}, {"type": "string"}], "default": 3},
            "wrapped": {"allOf": [{"$ref": "#/$defs/Thing"}], "description": "A thing"},
        },
        "required": ["mode"],
        "$defs": {"Thing": {"type": "object", "properties": {"a": {"type": "string"}}}},
    }
    strict = to_strict_schema(foreign)
    assert_strict_schema(strict)
    assert strict["properties"]["mode"] == {"enum": ["fast"]}
    ref = strict["properties"]["ref"]
    assert "pattern" not in ref["anyOf"][0] and "(?!x)" in ref["description"]
    assert strict["properties"]["size"]["anyOf"][-1] == {"type": "null"}
    assert strict["properties"]["wrapped"]["anyOf"][0] == {"$ref": "#/$defs/Thing"}
    assert strict["$defs"]["Thing"]["required"] == ["a"]


BAD_SCHEMAS = [
    ({"type": "array", "items": {"type": "string"}}, "root must be type 'object'"),
    (
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
        "additionalProperties",
    ),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "required": [],
            "additionalProperties": False,
        },
        "must be required",
    ),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "string", "minLength": 1}},
            "required": ["a"],
            "additionalProperties": False,
        },
        "'minLength' is not allowed",
    ),
    (
        {
            "type": "object",
            "properties": {"a": {"type": "string", "format": "uri"}},
            "required": ["a"],
            "additionalProperties": False,
        },
        "format 'uri'",
    ),
    (
        {
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/Missing"}},
            "required": ["a"],
            "additionalProperties": False,
        },
        "does not point",
    ),
    (
        {
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A", "description": "x"}},
            "required": ["a"],
            "additionalProperties": False,
            "$defs": {"A": {"type": "string"}},
        },
        "stand alone",
    ),
    (
        {
            "type": "object",
            "properties": {"a": {}},
            "required": ["a"],
            "additionalProperties": False,
        },
        "needs a type",
    ),
    ({"type": 5}, "Draft 2020-12"),
]


@pytest.mark.parametrize(("schema", "fragment"), BAD_SCHEMAS)
def test_assert_strict_schema_rejects(schema: dict[str, Any], fragment: str) -> None:
    with pytest.raises(AssertionError) as caught:
        assert_strict_schema(schema)
    assert fragment in str(caught.value)


def test_nesting_limit_is_checked() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(12):
        schema = {
            "type": "object",
            "properties": {"x": schema},
            "required": ["x"],
            "additionalProperties": False,
        }
    assert any("nested deeper" in p for p in strict_schema_problems(schema))


def test_apply_null_defaults_keeps_explicit_none_where_allowed() -> None:
    data: dict[str, Any] = {"items": [], "note": None, "express": None, "unknown": None}
    assert apply_null_defaults(Order, data) == {"items": [], "note": None, "unknown": None}
    assert apply_null_defaults(Order, [1]) == [1]


PALETTE: list[tuple[Any, Any]] = [
    (int, 5),
    (str, "text"),
    (float, 1.5),
    (bool, True),
    (Literal["a", "b"], "b"),
    (Color, Color.BLUE),
    (list[int], [1, 2]),
    (Address, Address(street="1 Main St", city="Oslo")),
    (int | None, None),
    (Annotated[int, Field(ge=0, le=10)], 3),
    (Annotated[str, Field(min_length=1, max_length=20)], "abc"),
    (list[Address], [Address(street="2 Rue", city="Paris", country="FR")]),
    (dt.date, dt.date(2025, 1, 2)),
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(PALETTE) - 1), st.booleans()), max_size=6))
def test_generated_models_are_strict_and_accept_model_style_payloads(
    spec: list[tuple[int, bool]],
) -> None:
    fields: dict[str, Any] = {}
    payload: dict[str, Any] = {}
    for index, (choice, has_default) in enumerate(spec):
        annotation, example = PALETTE[choice]
        name = f"f{index}"
        fields[name] = (annotation, example if has_default else ...)
        dumped = TypeAdapter(annotation).dump_python(example, mode="json")
        payload[name] = None if has_default else dumped
    model = create_model("Generated", **fields)
    schema = strict_json_schema(model)
    assert_strict_schema(schema)
    Draft202012Validator(schema).validate(payload)
    validated = model.model_validate(apply_null_defaults(model, payload))
    for index, (choice, has_default) in enumerate(spec):
        if has_default:
            assert getattr(validated, f"f{index}") == PALETTE[choice][1]


class TreeNode(BaseModel):
    """A tree."""

    name: str
    children: list[TreeNode] = Field(default_factory=list)


def test_recursive_models_use_defs_and_local_defaults() -> None:
    async def build(params: TreeNode) -> str:
        """Build a tree."""
        return params.name

    tree = Tool.from_model(TreeNode, build)
    assert_strict_schema(tree.parameters)
    children = tree.parameters["properties"]["children"]["anyOf"][0]
    assert children["items"] == {"$ref": "#/$defs/TreeNode"}
    params = tree.parse_arguments('{"name": "a", "children": [{"name": "b", "children": null}]}')
    assert params.children[0].children == []  # type: ignore[attr-defined]
