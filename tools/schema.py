"""Pydantic model -> JSON schema that OpenAI's strict mode accepts, plus the contract checks.

The strict schema is what the model sees; the pydantic model stays the local validator. Every
constraint strict mode cannot express (``minLength``, ``default``, unsupported formats...) is moved
into the description so the model still reads it, and is still enforced by pydantic locally.
Properties that have a default become nullable; :func:`apply_null_defaults` turns a ``null`` from
the model back into "use the default" before validation.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Union

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tools.errors import StrictSchemaError

STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
"""String formats strict mode supports; other formats are moved into the description."""

_KEPT = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "$ref",
        "$defs",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)
_DROPPED = frozenset(
    {
        "title",
        "discriminator",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "$schema",
        "$id",
        "$anchor",
    }
)
_REJECTED = frozenset(
    {
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "patternProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "prefixItems",
        "contains",
        "minContains",
        "maxContains",
        "$dynamicRef",
        "$recursiveRef",
    }
)
_KEY_ORDER = ("type", "description", "enum", "anyOf", "$ref", "properties", "items", "required")
_LOOKAROUND = re.compile(r"\(\?<?[=!]")
_ALLOWED_IN_CHECK = _KEPT | {"title"}
MAX_NESTING = 10
MAX_PROPERTIES = 5000
MAX_ENUM_VALUES = 1000


# --------------------------------------------------------------------------- conversion


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The strict ``parameters`` schema for a pydantic model (root description removed).

    Raises:
        StrictSchemaError: If the model uses something strict mode cannot express (open
            dicts, tuples, ``Any``...), naming the JSON path.
    """
    schema = to_strict_schema(model.model_json_schema())
    schema.pop("description", None)
    return schema


def to_strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Convert any object JSON schema (e.g. pydantic's) into a strict-mode schema copy."""
    source = dict(schema)
    defs = source.pop("$defs", None) or {}
    if set(source) == {"$ref"} and source["$ref"].startswith("#/$defs/"):
        source = dict(defs[source["$ref"].removeprefix("#/$defs/")])  # recursive root model
    root = _convert(source, "#")
    if root.get("type") != "object" or "anyOf" in root:
        raise StrictSchemaError(
            "The root of a strict tool schema must be a plain object (type: object), not "
            f"{root.get('type') or 'anyOf'}; declare the tool's parameters as fields."
        )
    if defs:
        root["$defs"] = {name: _convert(sub, f"#/$defs/{name}") for name, sub in defs.items()}
    return root


def _convert(raw: Any, path: str, *, optional: bool = False) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise StrictSchemaError(f"{path}: boolean or empty schemas are not allowed in strict mode.")
    node = dict(raw)
    notes: list[str] = []
    ref = node.pop("$ref", None)
    _normalise_combinators(node, path)
    for key in list(node):
        _handle_keyword(node, key, notes, path)
    _convert_children(node, path)
    if ref is not None:
        node = _attach_ref(node, ref, path)
    if not node:
        raise StrictSchemaError(
            f"{path}: a value of any type (typing.Any / object) cannot be expressed in strict "
            "mode; give the parameter a concrete type."
        )
    if optional and not _is_nullable(node):
        node = _nullable(_ordered(node))
        notes.append("null means the default")
    if notes:
        node["description"] = _with_notes(node.get("description"), notes)
    return _ordered(node)


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    rank = {key: index for index, key in enumerate(_KEY_ORDER)}
    return dict(sorted(node.items(), key=lambda item: rank.get(item[0], len(rank))))


def _normalise_combinators(node: dict[str, Any], path: str) -> None:
    if "oneOf" in node:
        if "anyOf" in node:
            raise StrictSchemaError(f"{path}: both oneOf and anyOf are not supported.")
        node["anyOf"] = node.pop("oneOf")
    if "allOf" in node:
        parts = node.pop("allOf")
        if len(parts) != 1 or "anyOf" in node:
            raise StrictSchemaError(f"{path}: allOf is not supported in strict mode.")
        node["anyOf"] = parts
    if "const" in node:
        value = node.pop("const")
        node.setdefault("enum", [value])


def _handle_keyword(node: dict[str, Any], key: str, notes: list[str], path: str) -> None:
    value = node[key]
    if key in _DROPPED:
        del node[key]
    elif key in _REJECTED:
        raise StrictSchemaError(
            f"{path}: the keyword {key!r} is not supported in strict mode (tuples, open "
            "dicts and conditional schemas cannot be used); use lists or nested models."
        )
    elif key == "default":
        del node[key]
        if value is not None:
            notes.append(f"default: {_short_json(value)}")
    elif key == "format" and value not in STRICT_FORMATS:
        del node[key]
        notes.append(f"format: {value}")
    elif key == "pattern" and _LOOKAROUND.search(str(value)):
        del node[key]
        notes.append(f"pattern: {value}")
    elif key not in _KEPT:
        del node[key]
        notes.append(f"{key}: {_short_json(value)}")


def _convert_children(node: dict[str, Any], path: str) -> None:
    if "anyOf" in node:
        node["anyOf"] = [_convert(sub, f"{path}/anyOf/{i}") for i, sub in enumerate(node["anyOf"])]
    if "items" in node:
        node["items"] = _convert(node["items"], f"{path}/items")
    is_object = node.get("type") == "object" or "properties" in node
    if is_object:
        _convert_object(node, path)
    elif "additionalProperties" in node:
        del node["additionalProperties"]


def _convert_object(node: dict[str, Any], path: str) -> None:
    extra = node.get("additionalProperties")
    if extra not in (None, False):
        raise StrictSchemaError(
            f"{path}: open objects (dict[...] or extra='allow') are not supported in strict "
            "mode; use a nested pydantic model with named fields."
        )
    properties: Mapping[str, Any] = node.get("properties", {})
    required = set(node.get("required", ()))
    node["properties"] = {
        name: _convert(sub, f"{path}/properties/{name}", optional=name not in required)
        for name, sub in properties.items()
    }
    node["required"] = list(properties)
    node["additionalProperties"] = False
    node.setdefault("type", "object")


def _attach_ref(node: dict[str, Any], ref: str, path: str) -> dict[str, Any]:
    if not node:
        return {"$ref": ref}
    if "anyOf" in node:
        raise StrictSchemaError(f"{path}: $ref next to anyOf is not supported.")
    node["anyOf"] = [{"$ref": ref}]
    return node


def _is_nullable(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "enum" in node and None in node["enum"]:
        return True
    return any(_is_nullable(sub) for sub in node.get("anyOf", ()))


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in node and set(node) <= {"anyOf", "description"}:
        node["anyOf"] = [*node["anyOf"], {"type": "null"}]
        return node
    description = node.pop("description", None)
    wrapped: dict[str, Any] = {"anyOf": [node, {"type": "null"}]}
    if description:
        wrapped["description"] = description
    return wrapped


def _with_notes(description: str | None, notes: list[str]) -> str:
    suffix = f"({'; '.join(notes)})"
    return f"{description} {suffix}" if description else suffix


def _short_json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


# --------------------------------------------------------------------------- local defaults


def apply_null_defaults(model: type[BaseModel], data: Any) -> Any:
    """Drop ``null`` values the model sent for fields whose default should apply instead.

    Strict mode makes every property required, so a field with a non-None default is sent as
    nullable; ``null`` then means "use the default". Recurses into nested models and lists of
    them. Returns a new structure; ``data`` is not modified.
    """
    if not isinstance(data, dict):
        return data
    result: dict[str, Any] = {}
    fields = {_wire_name(name, info): info for name, info in model.model_fields.items()}
    for key, value in data.items():
        info = fields.get(key)
        if info is None:
            result[key] = value
        elif value is None and _null_means_default(info):
            continue
        else:
            result[key] = _apply_nested(info.annotation, value)
    return result


def _wire_name(name: str, info: FieldInfo) -> str:
    alias = info.validation_alias if isinstance(info.validation_alias, str) else info.alias
    return alias or name


def _null_means_default(info: FieldInfo) -> bool:
    return not info.is_required() and not _accepts_none(info.annotation)


def _accepts_none(annotation: Any) -> bool:
    if annotation is None or annotation is type(None) or annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _accepts_none(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return any(_accepts_none(arg) for arg in typing.get_args(annotation))
    return False


def _apply_nested(annotation: Any, value: Any) -> Any:
    model = _single_model(annotation)
    if model is not None and isinstance(value, dict):
        return apply_null_defaults(model, value)
    item = _list_item_type(annotation)
    if item is not None and isinstance(value, list):
        return [_apply_nested(item, element) for element in value]
    return value


def _single_model(annotation: Any) -> type[BaseModel] | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _single_model(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        models = [m for m in map(_single_model, typing.get_args(annotation)) if m is not None]
        return models[0] if len(models) == 1 else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _list_item_type(annotation: Any) -> Any | None:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated or origin is Union or origin is types.UnionType:
        items = [t for t in map(_list_item_type, typing.get_args(annotation)) if t is not None]
        return items[0] if len(items) == 1 else None
    if origin in (list, tuple, set, frozenset):
        args = typing.get_args(annotation)
        return args[0] if args else None
    return None


# --------------------------------------------------------------------------- contract checks


def strict_schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """Every way ``schema`` breaks OpenAI's strict-mode rules (empty list = fine)."""
    problems: list[str] = []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        problems.append(f"not a valid Draft 2020-12 schema: {error.message}")
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("#: the root must be type 'object' and not anyOf")
    defs = schema.get("$defs", {})
    property_count = 0
    for path, node, depth in _walk(schema, "#", 0):
        problems.extend(_node_problems(path, node, depth, defs))
        property_count += len(node.get("properties", {}))
    if property_count > MAX_PROPERTIES:
        problems.append(f"#: {property_count} properties exceed the limit of {MAX_PROPERTIES}")
    return problems


def assert_strict_schema(schema: Mapping[str, Any]) -> None:
    """Assert that ``schema`` is a Draft 2020-12 schema OpenAI accepts with ``strict: true``.

    Raises:
        AssertionError: Listing every problem with its JSON path.
    """
    problems = strict_schema_problems(schema)
    if problems:
        raise AssertionError("Schema is not strict-mode compatible:\n- " + "\n- ".join(problems))


_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def assert_strict_tool(tool: Mapping[str, Any]) -> None:
    """Assert that an OpenAI ``tools`` entry is a strict function tool with a valid schema."""
    assert tool.get("type") == "function", f"tool type must be 'function', got {tool.get('type')}"
    function = tool.get("function", {})
    name = function.get("name", "")
    assert _TOOL_NAME.match(name), f"tool name {name!r} must match {_TOOL_NAME.pattern}"
    assert function.get("strict") is True, f"tool {name!r} must set strict: true"
    assert function.get("description"), f"tool {name!r} needs a description"
    assert_strict_schema(function.get("parameters", {}))


def _walk(node: Mapping[str, Any], path: str, depth: int) -> Iterator[tuple[str, Any, int]]:
    yield path, node, depth
    if not isinstance(node, Mapping):
        return
    for name, sub in node.get("$defs", {}).items():
        yield from _walk(sub, f"{path}/$defs/{name}", 0)
    for name, sub in (node.get("properties") or {}).items():
        yield from _walk(sub, f"{path}/properties/{name}", depth + 1)
    if isinstance(node.get("items"), Mapping):
        yield from _walk(node["items"], f"{path}/items", depth)
    for index, sub in enumerate(node.get("anyOf") or ()):
        yield from _walk(sub, f"{path}/anyOf/{index}", depth)


def _node_problems(path: str, node: Any, depth: int, defs: Mapping[str, Any]) -> list[str]:
    if not isinstance(node, Mapping):
        return [f"{path}: boolean schemas are not allowed"]
    unknown = [key for key in node if key not in _ALLOWED_IN_CHECK]
    problems = [f"{path}: keyword {key!r} is not allowed" for key in unknown]
    if "$defs" in node and path != "#":
        problems.append(f"{path}: $defs is only allowed at the root")
    if not ({"type", "anyOf", "$ref", "enum"} & set(node)):
        problems.append(f"{path}: needs a type, enum, anyOf or $ref")
    if "format" in node and node["format"] not in STRICT_FORMATS:
        problems.append(f"{path}: format {node['format']!r} is not supported")
    if "$ref" in node:
        problems.extend(_ref_problems(path, node, defs))
    if len(node.get("enum", ())) > MAX_ENUM_VALUES:
        problems.append(f"{path}: more than {MAX_ENUM_VALUES} enum values")
    if depth > MAX_NESTING:
        problems.append(f"{path}: nested deeper than {MAX_NESTING} levels")
    kind = node.get("type")
    if kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in node:
        problems.extend(_object_problems(path, node))
    return problems


def _ref_problems(path: str, node: Mapping[str, Any], defs: Mapping[str, Any]) -> list[str]:
    problems = []
    ref = node["$ref"]
    if len(node) > 1:
        problems.append(f"{path}: $ref must stand alone (wrap it in anyOf to add a description)")
    if ref != "#" and not (ref.startswith("#/$defs/") and ref.removeprefix("#/$defs/") in defs):
        problems.append(f"{path}: $ref {ref!r} does not point into the root $defs")
    return problems


def _object_problems(path: str, node: Mapping[str, Any]) -> list[str]:
    problems = []
    if node.get("additionalProperties") is not False:
        problems.append(f"{path}: objects need additionalProperties: false")
    properties = node.get("properties")
    if not isinstance(properties, Mapping):
        problems.append(f"{path}: objects need a properties mapping")
        return problems
    required = node.get("required")
    if not isinstance(required, list) or set(required) != set(properties):
        missing = sorted(set(properties) - set(required or ()))
        problems.append(f"{path}: every property must be required (missing: {missing})")
    return problems
