"""The strict-schema keyword tables row by row, and exact conversions (see docs/mutation.md).

Mutation tools do not mutate module-level data, so each row of the keyword tables is a case:
kept keywords stay as they are, dropped ones vanish without a note, rejected ones fail naming
the keyword and its path, and everything else moves into the description.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tools import StrictSchemaError
from tools.schema import (
    _DROPPED,
    _KEPT,
    _REJECTED,
    STRICT_FORMATS,
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
