"""The strict-schema keyword tables row by row, and exact conversions (see docs/mutation.md).

Mutation tools do not mutate module-level data, so each row of the keyword tables is a case:
kept keywords stay as they are, dropped ones vanish without a note, rejected ones fail naming
the keyword and its path, and everything else moves into the description.
"""

from __future__ import annotations

import json
import re
import typing
from typing import Annotated, Any, Union

import pytest
from pydantic import AliasChoices, BaseModel, Field

from tools.errors import StrictSchemaError
from tools.schema import (
    _DROPPED,
    _KEPT,
    _REJECTED,
    STRICT_FORMATS,
    apply_null_defaults,
    assert_strict_schema,
    assert_strict_tool,
    strict_json_schema,
    strict_schema_problems,
    to_strict_schema,
)

FORMATS = ["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"]
KEPT_ROWS: list[tuple[str, dict[str, Any]]] = [
    ("type", {"type": "string"}),
    ("description", {"type": "string", "description": "The name"}),
    (
        "properties",
        {"type": "object", "properties": {}, "required": [], "additionalProperties": False},
    ),
    (
        "required",
        {"type": "object", "properties": {}, "required": [], "additionalProperties": False},
    ),
    (
        "additionalProperties",
        {"type": "object", "properties": {}, "required": [], "additionalProperties": False},
    ),
    ("items", {"type": "array", "items": {"type": "string"}}),
    ("anyOf", {"anyOf": [{"type": "string"}, {"type": "integer"}]}),
    ("enum", {"enum": ["a", "b"]}),
    ("$ref", {"$ref": "#/$defs/Thing"}),
    ("pattern", {"type": "string", "pattern": "^[a-z]+$"}),
    ("format", {"type": "string", "format": "date"}),
    ("minimum", {"type": "number", "minimum": 1}),
    ("maximum", {"type": "number", "maximum": 9}),
    ("exclusiveMinimum", {"type": "number", "exclusiveMinimum": 0}),
    ("exclusiveMaximum", {"type": "number", "exclusiveMaximum": 10}),
    ("multipleOf", {"type": "number", "multipleOf": 0.5}),
    ("minItems", {"type": "array", "items": {"type": "string"}, "minItems": 1}),
    ("maxItems", {"type": "array", "items": {"type": "string"}, "maxItems": 3}),
]
DROPPED_ROWS: list[tuple[str, Any]] = [
    ("title", "Name"),
    ("discriminator", {"propertyName": "kind"}),
    ("deprecated", True),
    ("readOnly", True),
    ("writeOnly", True),
    ("$comment", "internal"),
    ("$schema", "https://json-schema.org/draft/2020-12/schema"),
    ("$id", "urn:x"),
    ("$anchor", "here"),
]
REJECTED_ROWS: list[tuple[str, Any]] = [
    ("not", {"type": "integer"}),
    ("if", {"minLength": 1}),
    ("then", {"maxLength": 2}),
    ("else", {"maxLength": 3}),
    ("dependentRequired", {"a": ["b"]}),
    ("dependentSchemas", {"a": {"type": "string"}}),
    ("patternProperties", {"^x": {"type": "string"}}),
    ("unevaluatedProperties", False),
    ("unevaluatedItems", False),
    ("propertyNames", {"pattern": "^x"}),
    ("prefixItems", [{"type": "string"}]),
    ("contains", {"type": "string"}),
    ("minContains", 1),
    ("maxContains", 2),
    ("$dynamicRef", "#node"),
    ("$recursiveRef", "#"),
]
DEFS = {
    "Thing": {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
}


def convert_property(sub: dict[str, Any]) -> dict[str, Any]:
    """The strict form of one required property ``p``."""
    schema = {"type": "object", "properties": {"p": sub}, "required": ["p"], "$defs": DEFS}
    return to_strict_schema(schema)["properties"]["p"]


def test_the_tables_hold_exactly_the_listed_rows() -> None:
    assert {key for key, _ in KEPT_ROWS} | {"$defs"} == _KEPT
    assert {key for key, _ in DROPPED_ROWS} == _DROPPED
    assert {key for key, _ in REJECTED_ROWS} == _REJECTED
    assert set(FORMATS) == STRICT_FORMATS


@pytest.mark.parametrize(("key", "sub"), KEPT_ROWS, ids=[key for key, _ in KEPT_ROWS])
def test_each_kept_keyword_passes_through_unchanged(key: str, sub: dict[str, Any]) -> None:
    converted = convert_property(sub)

    assert converted == sub
    assert converted[key] == sub[key]
    assert (
        strict_schema_problems(
            {
                "type": "object",
                "properties": {"p": converted},
                "required": ["p"],
                "additionalProperties": False,
                "$defs": DEFS,
            }
        )
        == []
    )


def test_defs_are_kept_at_the_root() -> None:
    schema = {"type": "object", "properties": {"p": {"$ref": "#/$defs/Thing"}}, "$defs": DEFS}

    assert to_strict_schema(schema)["$defs"] == DEFS


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_strict_format_is_kept(fmt: str) -> None:
    assert convert_property({"type": "string", "format": fmt}) == {"type": "string", "format": fmt}


@pytest.mark.parametrize("fmt", ["uri", "uri-reference", "regex", "binary"])
def test_other_formats_move_into_the_description(fmt: str) -> None:
    assert convert_property({"type": "string", "format": fmt}) == {
        "type": "string",
        "description": f"(format: {fmt})",
    }


@pytest.mark.parametrize(("key", "value"), DROPPED_ROWS, ids=[key for key, _ in DROPPED_ROWS])
def test_each_dropped_keyword_vanishes_without_a_note(key: str, value: Any) -> None:
    assert convert_property({"type": "string", key: value}) == {"type": "string"}


@pytest.mark.parametrize(("key", "value"), REJECTED_ROWS, ids=[key for key, _ in REJECTED_ROWS])
def test_each_rejected_keyword_fails_naming_it_and_its_path(key: str, value: Any) -> None:
    message = (
        f"#/properties/p: the keyword {key!r} is not supported in strict mode (tuples, open "
        "dicts and conditional schemas cannot be used); use lists or nested models."
    )

    with pytest.raises(StrictSchemaError, match=f"^{re.escape(message)}$"):
        convert_property({"type": "string", key: value})


@pytest.mark.parametrize(
    ("extra", "note"),
    [
        ({"minLength": 2}, "minLength: 2"),
        ({"maxLength": 9}, "maxLength: 9"),
        ({"examples": ["a", "b"]}, 'examples: ["a", "b"]'),
        ({"pattern": "^(?=a)a$"}, "pattern: ^(?=a)a$"),
        ({"pattern": "^(?<!b)a$"}, "pattern: ^(?<!b)a$"),
        ({"default": "x"}, 'default: "x"'),
        ({"default": {"k": 1}}, 'default: {"k": 1}'),
    ],
)
def test_other_constraints_move_into_the_description_as_notes(
    extra: dict[str, Any], note: str
) -> None:
    assert convert_property({"type": "string", "description": "Word.", **extra}) == {
        "type": "string",
        "description": f"Word. ({note})",
    }


def test_notes_are_joined_in_order_and_long_values_shortened() -> None:
    long = "x" * 300

    converted = convert_property({"type": "string", "minLength": 1, "default": long})

    assert converted == {
        "type": "string",
        "description": f'(minLength: 1; default: "{long[:196]}...)',
    }


def test_a_lookahead_free_pattern_is_kept() -> None:
    assert convert_property({"type": "string", "pattern": "^(?:ab)+(a|b)$"}) == {
        "type": "string",
        "pattern": "^(?:ab)+(a|b)$",
    }


@pytest.mark.parametrize("key", sorted(_DROPPED - {"title"}))
def test_the_checker_refuses_each_dropped_keyword_but_title(key: str) -> None:
    schema = {
        "type": "object",
        "properties": {"p": {"type": "string", key: "x"}},
        "required": ["p"],
        "additionalProperties": False,
    }

    assert f"#/properties/p: keyword {key!r} is not allowed" in strict_schema_problems(schema)


def test_the_checker_allows_title() -> None:
    schema = {
        "type": "object",
        "title": "T",
        "properties": {"p": {"type": "string", "title": "P"}},
        "required": ["p"],
        "additionalProperties": False,
    }

    assert strict_schema_problems(schema) == []


# -- exact conversions ----------------------------------------------------------------------


class Place(BaseModel):
    """Where to look."""

    city: str = Field(description="City name")
    days: int = 3
    tags: list[str] | None = None


def test_a_model_converts_to_exactly_this_schema_in_this_key_order() -> None:
    schema = strict_json_schema(Place)

    assert json.dumps(schema) == json.dumps(
        {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "days": {
                    "description": "(default: 3; null means the default)",
                    "anyOf": [{"type": "integer"}, {"type": "null"}],
                },
                "tags": {
                    "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
                },
            },
            "required": ["city", "days", "tags"],
            "additionalProperties": False,
        }
    )


def test_children_of_anyof_items_and_defs_are_converted_too() -> None:
    loose = {"type": "object", "title": "Loose", "properties": {"x": {"type": "string"}}}
    strict_loose = {
        "type": "object",
        "properties": {
            "x": {
                "description": "(null means the default)",
                "anyOf": [{"type": "string"}, {"type": "null"}],
            }
        },
        "required": ["x"],
        "additionalProperties": False,
    }
    schema = {
        "type": "object",
        "properties": {
            "any": {"anyOf": [loose, {"type": "integer"}]},
            "list": {"type": "array", "items": loose},
            "ref": {"$ref": "#/$defs/Loose", "description": "A ref"},
            "bare": {"properties": {}},
            "text": {"type": "string", "additionalProperties": False},
        },
        "required": ["any", "list", "ref", "bare", "text"],
        "$defs": {"Loose": loose},
    }

    strict = to_strict_schema(schema)

    assert strict["properties"] == {
        "any": {"anyOf": [strict_loose, {"type": "integer"}]},
        "list": {"type": "array", "items": strict_loose},
        "ref": {"description": "A ref", "anyOf": [{"$ref": "#/$defs/Loose"}]},
        "bare": {"type": "object", "properties": {}, "required": [], "additionalProperties": False},
        "text": {"type": "string"},
    }
    assert strict["$defs"] == {"Loose": strict_loose}
    assert list(strict["properties"]["ref"]) == ["description", "anyOf"]


def test_an_optional_ref_keeps_its_description_outside_the_anyof() -> None:
    schema = {
        "type": "object",
        "properties": {"r": {"$ref": "#/$defs/T", "description": "The T"}},
        "$defs": {"T": {"type": "string"}},
    }

    assert to_strict_schema(schema)["properties"]["r"] == {
        "description": "The T (null means the default)",
        "anyOf": [{"$ref": "#/$defs/T"}, {"type": "null"}],
    }


def test_an_optional_plain_type_moves_its_description_to_the_wrapper() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer", "description": "N"}}}

    assert to_strict_schema(schema)["properties"]["n"] == {
        "anyOf": [{"type": "integer"}, {"type": "null"}],
        "description": "N (null means the default)",
    }


@pytest.mark.parametrize(
    "sub",
    [
        {"type": ["string", "null"]},
        {"type": "null"},
        {"enum": ["a", None]},
        {"anyOf": [{"type": "string"}, {"anyOf": [{"type": "null"}]}]},
    ],
)
def test_an_optional_property_that_is_already_nullable_is_left_alone(sub: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": {"p": sub}}

    assert to_strict_schema(schema)["properties"]["p"] == sub


def test_a_const_becomes_a_one_value_enum_unless_an_enum_is_given() -> None:
    assert convert_property({"const": 3}) == {"enum": [3]}
    assert convert_property({"const": 3, "enum": [3, 4]}) == {"enum": [3, 4]}


def test_a_single_allof_and_a_oneof_become_anyof() -> None:
    assert convert_property({"allOf": [{"type": "string"}]}) == {"anyOf": [{"type": "string"}]}
    assert convert_property({"oneOf": [{"type": "string"}, {"type": "integer"}]}) == {
        "anyOf": [{"type": "string"}, {"type": "integer"}]
    }


def test_a_recursive_root_model_is_read_from_its_defs() -> None:
    schema = {
        "$ref": "#/$defs/Node",
        "$defs": {"Node": {"type": "object", "properties": {"n": {"$ref": "#/$defs/Node"}}}},
    }

    strict = to_strict_schema(schema)

    assert strict["properties"]["n"] == {
        "description": "(null means the default)",
        "anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}],
    }
    assert strict["$defs"]["Node"]["required"] == ["n"]


# -- exact refusals with their JSON paths ---------------------------------------------------


def _refusal(schema: Any) -> str:
    with pytest.raises(StrictSchemaError) as caught:
        to_strict_schema(schema)
    return str(caught.value)


ROOT_NOT_OBJECT = (
    "The root of a strict tool schema must be a plain object (type: object), not {}; "
    "declare the tool's parameters as fields."
)
OPEN_OBJECT = (
    "{}: open objects (dict[...] or extra='allow') are not supported in strict mode; use a "
    "nested pydantic model with named fields."
)
ANY_TYPE = (
    "{}: a value of any type (typing.Any / object) cannot be expressed in strict mode; give "
    "the parameter a concrete type."
)


def test_the_root_must_be_a_plain_object() -> None:
    assert _refusal({"type": "array", "items": {"type": "string"}}) == ROOT_NOT_OBJECT.format(
        "array"
    )
    assert _refusal({"anyOf": [{"type": "object"}]}) == ROOT_NOT_OBJECT.format("anyOf")
    assert _refusal({"type": "object", "anyOf": [{"type": "object"}]}) == ROOT_NOT_OBJECT.format(
        "object"
    )


def test_refusals_name_the_json_path_of_the_problem() -> None:
    open_dict = {"type": "object", "additionalProperties": {"type": "string"}}

    assert _refusal(
        {"type": "object", "properties": {"a": {"type": "array", "items": open_dict}}}
    ) == OPEN_OBJECT.format("#/properties/a/items")
    assert _refusal(
        {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, open_dict]}}}
    ) == OPEN_OBJECT.format("#/properties/a/anyOf/1")
    assert _refusal(
        {
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/D"}},
            "$defs": {"D": {"type": "object", "properties": {"x": {}}}},
        }
    ) == ANY_TYPE.format("#/$defs/D/properties/x")
    assert _refusal({"type": "object", "properties": {"a": True}}) == (
        "#/properties/a: boolean or empty schemas are not allowed in strict mode."
    )


def test_combinators_strict_mode_cannot_express_are_refused() -> None:
    both = {"oneOf": [{"type": "string"}], "anyOf": [{"type": "string"}]}
    two_all = {"allOf": [{"type": "string"}, {"type": "integer"}]}
    all_and_any = {"allOf": [{"type": "string"}], "anyOf": [{"type": "integer"}]}
    ref_and_any = {"$ref": "#/$defs/T", "anyOf": [{"type": "integer"}]}
    root = {"type": "object", "$defs": {"T": {"type": "string"}}}

    for sub, message in [
        (both, "#/properties/p: both oneOf and anyOf are not supported."),
        (two_all, "#/properties/p: allOf is not supported in strict mode."),
        (all_and_any, "#/properties/p: allOf is not supported in strict mode."),
        (ref_and_any, "#/properties/p: $ref next to anyOf is not supported."),
    ]:
        assert _refusal({**root, "properties": {"p": sub}, "required": ["p"]}) == message


# -- the checker: every problem, exactly ----------------------------------------------------


def test_the_checker_lists_every_problem_with_its_path() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "string", "format": "uri", "minLength": 1},
            "b": {"$ref": "#/$defs/Nope", "description": "x"},
            "c": {"description": "no type"},
            "d": {"type": "object", "properties": {"e": {"type": "string"}}, "$defs": {}},
            "f": {"type": ["object", "null"], "properties": {}, "required": []},
            "g": {"enum": list(range(1001))},
            "h": {"type": "object"},
        },
        "required": ["a", "b", "c", "d", "f", "g"],
        "additionalProperties": False,
        "$defs": {"Ok": {"type": "string"}},
    }

    assert strict_schema_problems(schema) == [
        "#: every property must be required (missing: ['h'])",
        "#/properties/a: keyword 'minLength' is not allowed",
        "#/properties/a: format 'uri' is not supported",
        "#/properties/b: $ref must stand alone (wrap it in anyOf to add a description)",
        "#/properties/b: $ref '#/$defs/Nope' does not point into the root $defs",
        "#/properties/c: needs a type, enum, anyOf or $ref",
        "#/properties/d: $defs is only allowed at the root",
        "#/properties/d: objects need additionalProperties: false",
        "#/properties/d: every property must be required (missing: ['e'])",
        "#/properties/f: objects need additionalProperties: false",
        "#/properties/g: more than 1000 enum values",
        "#/properties/h: objects need additionalProperties: false",
        "#/properties/h: objects need a properties mapping",
    ]


def _nest(levels: int, leaf: dict[str, Any]) -> dict[str, Any]:
    schema = leaf
    for _ in range(levels):
        schema = {
            "type": "object",
            "properties": {"x": schema},
            "required": ["x"],
            "additionalProperties": False,
        }
    return schema


def test_nesting_is_counted_through_properties_but_not_items_anyof_or_defs() -> None:
    ten = _nest(10, {"type": "string"})
    eleven = _nest(11, {"type": "string"})
    path = "#" + "/properties/x" * 11

    assert strict_schema_problems(ten) == []
    assert strict_schema_problems(eleven) == [f"{path}: nested deeper than 10 levels"]
    wrapped = _nest(10, {"type": "array", "items": {"anyOf": [{"type": "string"}]}})
    assert strict_schema_problems(wrapped) == []
    in_defs = {**_nest(1, {"$ref": "#/$defs/D"}), "$defs": {"D": _nest(10, {"type": "string"})}}
    assert strict_schema_problems(in_defs) == []


def test_problems_inside_defs_items_and_anyof_carry_their_path() -> None:
    bad = {"type": "string", "format": "uri"}
    schema = {
        "type": "object",
        "properties": {
            "l": {"type": "array", "items": bad},
            "u": {"anyOf": [{"type": "null"}, bad]},
            "r": {"$ref": "#"},
        },
        "required": ["l", "u", "r"],
        "additionalProperties": False,
        "$defs": {"D": bad},
    }

    assert strict_schema_problems(schema) == [
        "#/$defs/D: format 'uri' is not supported",
        "#/properties/l/items: format 'uri' is not supported",
        "#/properties/u/anyOf/1: format 'uri' is not supported",
    ]


def test_the_property_count_limit() -> None:
    def wide(count: int) -> dict[str, Any]:
        names = [f"p{i}" for i in range(count)]
        return {
            "type": "object",
            "properties": {name: {"type": "string"} for name in names},
            "required": names,
            "additionalProperties": False,
        }

    assert strict_schema_problems(wide(5000)) == []
    assert strict_schema_problems(wide(5001)) == ["#: 5001 properties exceed the limit of 5000"]


def test_the_root_checks() -> None:
    assert strict_schema_problems({"type": "string"}) == [
        "#: the root must be type 'object' and not anyOf"
    ]
    assert strict_schema_problems(
        {
            "anyOf": [
                {"type": "object", "properties": {}, "required": [], "additionalProperties": False}
            ]
        }
    ) == ["#: the root must be type 'object' and not anyOf"]
    assert strict_schema_problems({"type": 5})[0].startswith(
        "not a valid Draft 2020-12 schema: 5 is not valid under any of the given schemas"
    )


def test_assert_strict_schema_lists_every_problem() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": []}

    with pytest.raises(AssertionError) as caught:
        assert_strict_schema(schema)

    assert str(caught.value) == (
        "Schema is not strict-mode compatible:\n"
        "- #: objects need additionalProperties: false\n"
        "- #: every property must be required (missing: ['a'])"
    )


def _tool(**changes: Any) -> dict[str, Any]:
    function = {
        "name": "get_weather",
        "description": "Weather.",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {},
            "required": [],
            "additionalProperties": False,
        },
    }
    tool = {"type": "function", "function": function}
    for key, value in changes.items():
        if key == "type":
            tool["type"] = value
        elif value is None:
            function.pop(key)
        else:
            function[key] = value
    return tool


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "custom"}, "tool type must be 'function', got custom"),
        ({"name": "get weather"}, "tool name 'get weather' must match ^[A-Za-z0-9_-]{1,64}$"),
        ({"name": "x" * 65}, f"tool name {'x' * 65!r} must match ^[A-Za-z0-9_-]{{1,64}}$"),
        ({"name": None}, "tool name '' must match ^[A-Za-z0-9_-]{1,64}$"),
        ({"strict": False}, "tool 'get_weather' must set strict: true"),
        ({"strict": None}, "tool 'get_weather' must set strict: true"),
        ({"description": ""}, "tool 'get_weather' needs a description"),
        ({"description": None}, "tool 'get_weather' needs a description"),
        (
            {"parameters": {"type": "string"}},
            "Schema is not strict-mode compatible:\n"
            "- #: the root must be type 'object' and not anyOf",
        ),
        (
            {"parameters": None},
            "Schema is not strict-mode compatible:\n"
            "- #: the root must be type 'object' and not anyOf\n"
            "- #: needs a type, enum, anyOf or $ref",
        ),
    ],
)
def test_assert_strict_tool_says_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(AssertionError) as caught:
        assert_strict_tool(_tool(**changes))

    assert str(caught.value) == message


def test_assert_strict_tool_accepts_a_good_tool() -> None:
    assert_strict_tool(_tool())
    assert_strict_tool(_tool(name="a" * 64))


# -- more exact checker and conversion cases ------------------------------------------------


def test_object_checks_apply_to_type_lists_and_bare_properties() -> None:
    schema = {
        "type": "object",
        "properties": {
            "maybe": {"type": ["object", "null"]},
            "text": {"type": ["string", "null"]},
            "bare": {"properties": {"a": {"type": "string"}}, "required": []},
            "e": {"enum": list(range(1000))},
        },
        "required": ["maybe", "text", "bare", "e"],
        "additionalProperties": False,
    }

    assert strict_schema_problems(schema) == [
        "#/properties/maybe: objects need additionalProperties: false",
        "#/properties/maybe: objects need a properties mapping",
        "#/properties/bare: needs a type, enum, anyOf or $ref",
        "#/properties/bare: objects need additionalProperties: false",
        "#/properties/bare: every property must be required (missing: ['a'])",
    ]


def test_a_root_with_anyof_beside_type_object_is_refused_by_the_checker() -> None:
    root = {"type": "object", "properties": {}, "required": [], "additionalProperties": False}

    assert strict_schema_problems({**root, "anyOf": [root]}) == [
        "#: the root must be type 'object' and not anyOf"
    ]


def test_assert_strict_tool_without_a_function_names_the_empty_name() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_strict_tool({"type": "function"})

    assert str(caught.value) == "tool name '' must match ^[A-Za-z0-9_-]{1,64}$"


def test_an_optional_property_with_anyof_beside_other_keywords_is_wrapped() -> None:
    sub = {"type": "string", "anyOf": [{"pattern": "^a"}, {"pattern": "^b"}]}

    assert to_strict_schema({"type": "object", "properties": {"p": sub}})["properties"]["p"] == {
        "description": "(null means the default)",
        "anyOf": [sub, {"type": "null"}],
    }


def test_default_notes_keep_non_ascii_and_stringify_other_values() -> None:
    import datetime as dt

    assert convert_property({"type": "string", "default": "café"}) == {
        "type": "string",
        "description": '(default: "café")',
    }
    assert convert_property({"type": "string", "default": dt.date(2025, 1, 2)}) == {
        "type": "string",
        "description": '(default: "2025-01-02")',
    }


def test_default_notes_are_cut_after_200_characters() -> None:
    exactly = "x" * 198  # 200 characters as JSON, with its quotes
    longer = "x" * 199

    assert convert_property({"type": "string", "default": exactly})["description"] == (
        f'(default: "{exactly}")'
    )
    assert convert_property({"type": "string", "default": longer})["description"] == (
        f'(default: "{longer[:196]}...)'
    )


# -- local defaults: null means "use the default" -------------------------------------------


class Sub(BaseModel):
    n: int = 1


class Cat2(BaseModel):
    lives: int = 9


class Dog2(BaseModel):
    lives: int = 1


class Defaults(BaseModel):
    count: int = 5
    bounded: Annotated[int, Field(ge=0)] = 5
    maybe: Annotated[int | None, Field(ge=0)] = 5
    legacy: Union[int, None] = 5  # noqa: UP007  (typing.Union, not int | None)
    either: int | str = 5
    tags: list[str] = Field(default_factory=list)
    old_list: typing.List[Sub] = Field(default_factory=list)  # noqa: UP006
    subs: list[Sub] | None = None
    sized: Annotated[list[Sub], Field(max_length=3)] = Field(default_factory=list)
    sub: Sub | None = None
    marked: Annotated[Sub, Field(description="A sub")] = Field(default_factory=Sub)
    pet: Cat2 | Dog2 | None = None
    city: str = Field("Paris", alias="cityName")
    town: str = Field("Oslo", validation_alias="placeName")
    either_way: str = Field("x", alias="w1", validation_alias=AliasChoices("w1", "w2"))
    mixed: Annotated[int, Field(ge=0)] | str = 5
    mixed_none: Annotated[int | None, Field(ge=0)] | str = 5
    bare: typing.List = Field(default_factory=list)  # type: ignore[type-arg]  # noqa: UP006
    legacy_list: Union[list[Sub], None] = None  # noqa: UP007
    marked_or_none: Annotated[Sub, Field(description="A sub")] | None = None


def test_null_is_dropped_only_where_the_field_does_not_accept_none() -> None:
    data = {
        "count": None,
        "bounded": None,
        "maybe": None,
        "legacy": None,
        "either": None,
        "cityName": None,
        "placeName": None,
        "w1": None,
        "mixed": None,
        "mixed_none": None,
        "unknown": 7,
    }

    assert apply_null_defaults(Defaults, data) == {
        "maybe": None,
        "legacy": None,
        "mixed_none": None,
        "unknown": 7,
    }


def test_nested_models_get_their_defaults_through_lists_unions_and_annotations() -> None:
    data = {
        "subs": [{"n": None}],
        "sized": [{"n": None}, {"n": 2}],
        "old_list": [{"n": None}],
        "sub": {"n": None},
        "marked": {"n": None},
        "pet": {"lives": None},
        "bare": [{"n": None}],
        "legacy_list": [{"n": None}],
        "marked_or_none": {"n": None},
    }

    assert apply_null_defaults(Defaults, data) == {
        "subs": [{}],
        "sized": [{}, {"n": 2}],
        "old_list": [{}],
        "sub": {},
        "marked": {},
        "pet": {"lives": None},  # two models could match: left to pydantic
        "bare": [{"n": None}],  # items of unknown type: left as they are
        "legacy_list": [{}],
        "marked_or_none": {},
    }


def test_values_of_the_wrong_shape_are_left_for_pydantic_to_refuse() -> None:
    data = {"count": {"a": None}, "tags": "abc", "subs": "x", "sub": [1]}

    assert apply_null_defaults(Defaults, data) == data
