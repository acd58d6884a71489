"""Build ``openai-subset.json``: the part of the OpenAI OpenAPI spec the emulator validates with.

The full spec (``openapi.json`` from the ``openai/openai-openapi`` repository) is 3.4 MB with 1,422
component schemas. The emulator needs only the request and response schemas of the routes it serves
plus everything they reference, so this script copies those component schemas and makes them valid
JSON Schema 2020-12:

* ``nullable: true`` (an OpenAPI 3.0 leftover that JSON Schema ignores) becomes ``"null"`` in
  ``type`` (and ``None`` in ``enum``); a schema without ``type`` is wrapped as
  ``anyOf: [schema, {type: null}]``. ``nullable: false`` is dropped.
* Boolean ``exclusiveMinimum``/``exclusiveMaximum`` (draft 4 style) become the numeric 2020-12 form.
* ``oneOf`` of the schemas in ``ONE_OF_AS_ANY_OF`` (overlapping alternatives) becomes ``anyOf``.
* Pure documentation keys (``description``, ``example``, ``examples``, ``x-oaiMeta``) are dropped
  to keep the file small; every validation keyword is kept.

``$ref`` values keep their ``#/components/schemas/X`` form, so the output document can be registered
as one JSON Schema resource. Usage (from the repository root)::

    python bot/testing/schemas/build_subset.py /path/to/openapi.json

It rewrites ``openai-subset.json`` next to this file and prints the sha256 of the input for
``SOURCE.md``. Add a schema name to ``ROOT_SCHEMAS`` when the emulator grows a route.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT_SCHEMAS: tuple[str, ...] = (
    "CreateChatCompletionRequest",
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CreateImageRequest",
    "CreateImageEditRequest",
    "ImagesResponse",
    "CreateModerationRequest",
    "CreateModerationResponse",
    "CreateTranscriptionRequest",
    "CreateTranscriptionResponseJson",
    "CreateTranscriptionResponseVerboseJson",
    "CreateSpeechRequest",
    "CreateEmbeddingRequest",
    "CreateEmbeddingResponse",
    "ListModelsResponse",
    "Model",
    "ErrorResponse",
    "CreateResponse",
    "Response",
    "ResponseStreamEvent",
    "RealtimeClientEventSessionUpdate",
    "RealtimeClientEventConversationItemCreate",
    "RealtimeClientEventResponseCreate",
    "RealtimeClientEventResponseCancel",
    "RealtimeServerEventSessionCreated",
    "RealtimeServerEventSessionUpdated",
    "RealtimeServerEventConversationItemAdded",
    "RealtimeServerEventConversationItemDone",
    "RealtimeServerEventResponseCreated",
    "RealtimeServerEventResponseOutputItemAdded",
    "RealtimeServerEventResponseOutputItemDone",
    "RealtimeServerEventResponseContentPartAdded",
    "RealtimeServerEventResponseContentPartDone",
    "RealtimeServerEventResponseAudioDelta",
    "RealtimeServerEventResponseAudioDone",
    "RealtimeServerEventResponseAudioTranscriptDelta",
    "RealtimeServerEventResponseAudioTranscriptDone",
    "RealtimeServerEventResponseDone",
    "RealtimeServerEventError",
)

# ``oneOf`` lists whose alternatives overlap, so valid traffic matches two of them: OpenAI picks
# one by ``type`` (a user message is both an ``EasyInputMessage`` and an ``Item``), JSON Schema
# rejects it. In these schemas ``oneOf`` becomes ``anyOf``.
ONE_OF_AS_ANY_OF = frozenset({"InputItem"})
DOC_ONLY_KEYS = frozenset({"description", "example", "examples", "x-oaiMeta"})
NAME_MAP_KEYS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
ANNOTATION_KEYS = frozenset({"title", "default", "deprecated", "discriminator", "readOnly"})
REF_PATTERN = re.compile(r"^#/components/schemas/(.+)$")
OUTPUT_NAME = "openai-subset.json"


def reachable_schemas(schemas: dict[str, Any], roots: tuple[str, ...]) -> list[str]:
    """Return the names of ``roots`` and every component schema they reference, sorted."""
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        if name not in schemas:
            raise SystemExit(f"schema {name!r} is not in the spec: fix ROOT_SCHEMAS")
        seen.add(name)
        pending.extend(_refs_in(schemas[name]))
    return sorted(seen)


def _refs_in(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("$ref", "$recursiveRef") and isinstance(value, str):
                match = REF_PATTERN.match(value)
                if match:
                    found.append(match.group(1))
            else:
                found.extend(_refs_in(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_refs_in(item))
    return found


def rewrite(node: Any) -> Any:
    """Return a JSON Schema 2020-12 copy of an OpenAPI 3.0/3.1 schema node (see module doc)."""
    if isinstance(node, list):
        return [rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {
        key: _rewrite_named(value) if key in NAME_MAP_KEYS else rewrite(value)
        for key, value in node.items()
        if key not in DOC_ONLY_KEYS
    }
    _rewrite_exclusive_bounds(result)
    nullable = result.pop("nullable", False)
    return _make_nullable(result) if nullable is True else result


def _rewrite_named(mapping: Any) -> Any:
    """Rewrite a name -> schema map (``properties`` etc.): its keys are names, not keywords."""
    if not isinstance(mapping, dict):
        return rewrite(mapping)
    return {name: rewrite(schema) for name, schema in mapping.items()}


def _rewrite_exclusive_bounds(schema: dict[str, Any]) -> None:
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = schema.get(exclusive)
        if not isinstance(flag, bool):
            continue
        del schema[exclusive]
        if flag and bound in schema:
            schema[exclusive] = schema.pop(bound)


def _make_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list):
        schema["type"] = [*kind, "null"] if "null" not in kind else kind
    else:
        return _wrap_in_any_of_null(schema)
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def _wrap_in_any_of_null(schema: dict[str, Any]) -> dict[str, Any]:
    annotations = {key: value for key, value in schema.items() if _is_annotation(key)}
    constraints = {key: value for key, value in schema.items() if not _is_annotation(key)}
    return {**annotations, "anyOf": [constraints, {"type": "null"}]}


def _is_annotation(key: str) -> bool:
    return key in ANNOTATION_KEYS or key.startswith("x-")


def build(spec: dict[str, Any], source_sha256: str) -> dict[str, Any]:
    """Return the subset document for ``spec``."""
    schemas = spec["components"]["schemas"]
    names = reachable_schemas(schemas, ROOT_SCHEMAS)
    return {
        "$comment": (
            "Generated by build_subset.py from openai/openai-openapi openapi.json "
            f"(sha256 {source_sha256}); see SOURCE.md. Do not edit by hand."
        ),
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "roots": list(ROOT_SCHEMAS),
        "components": {"schemas": {name: _schema(name, schemas[name]) for name in names}},
    }


def _schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    rewritten = rewrite(schema)
    if name in ONE_OF_AS_ANY_OF and "oneOf" in rewritten:
        rewritten["anyOf"] = rewritten.pop("oneOf")
    return rewritten


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("openapi_json", type=Path, help="path of the full openapi.json")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).with_name(OUTPUT_NAME),
        help=f"where to write the subset (default: {OUTPUT_NAME} next to this script)",
    )
    args = parser.parse_args(argv)
    raw = args.openapi_json.read_bytes()
    sha256 = hashlib.sha256(raw).hexdigest()
    subset = build(json.loads(raw), sha256)
    text = json.dumps(subset, indent=1, sort_keys=True, ensure_ascii=False)
    args.output.write_text(text + "\n", encoding="utf-8")
    count = len(subset["components"]["schemas"])
    print(f"wrote {args.output} ({count} schemas, {len(text)} bytes); source sha256 {sha256}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
