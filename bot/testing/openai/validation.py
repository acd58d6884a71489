"""Validate requests and responses against the vendored OpenAI OpenAPI subset.

The subset (``bot/testing/schemas/openai-subset.json``, see ``SOURCE.md`` there) is loaded the first
time an emulator validates something, and compiled validators are cached per :class:`SchemaBook`,
that is per emulator. Chat requests are validated message by message with a per-book cache, so a
conversation that resends its history costs one validation per *new* message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from .errors import ApiError

SUBSET_URI = "urn:toolcord:openai-subset"
MAX_ISSUES = 5
CACHE_LIMIT = 8192
FREE_TEXT_KEYS = frozenset(
    {
        # chat completions
        *("id", "model", "created", "content", "refusal", "reasoning_content", "arguments"),
        "name",
        # the Responses API's events and output items
        *("created_at", "sequence_number", "output_index", "content_index", "summary_index"),
        *("item_id", "call_id", "delta", "text", "encrypted_content", "instructions"),
        *("input_tokens", "output_tokens", "total_tokens", "reasoning_tokens", "max_output_tokens"),
    }
)
_REQUIRED = re.compile(r"^'(?P<name>[^']+)' is a required property")
_UNEXPECTED = re.compile(r"\('(?P<name>[^']+)'(?: was| were) unexpected\)")

ViolationKind = Literal["request", "response", "emulator"]


@dataclass(frozen=True)
class SchemaIssue:
    """One reason an instance does not match its schema."""

    path: tuple[str | int, ...]
    message: str
    keyword: str
    missing: str | None = None
    unexpected: str | None = None

    @property
    def location(self) -> str:
        """The JSON path of the offending value, such as ``messages[0].role``."""
        return location_of(self.path)


@dataclass(frozen=True)
class Violation:
    """A request the client should not have sent, or a response the emulator should not send."""

    kind: ViolationKind
    method: str
    path: str
    schema: str
    issues: tuple[SchemaIssue, ...]

    def __str__(self) -> str:
        where = "; ".join(f"{i.location or '<root>'}: {i.message}" for i in self.issues)
        return f"{self.kind} {self.method} {self.path} vs {self.schema}: {where}"


def location_of(path: Iterable[Any]) -> str:
    """Return a JSON path such as ``messages[0].role`` for a jsonschema error path."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _issue(error: ValidationError) -> SchemaIssue:
    missing = unexpected = None
    if error.validator == "required":
        match = _REQUIRED.match(error.message)
        missing = match.group("name") if match else None
    elif error.validator in ("additionalProperties", "unevaluatedProperties"):
        match = _UNEXPECTED.search(error.message)
        unexpected = match.group("name") if match else None
    message = error.message if len(error.message) <= 300 else error.message[:297] + "..."
    path = tuple(error.absolute_path)
    return SchemaIssue(path, message, str(error.validator), missing, unexpected)


def api_error_for(issue: SchemaIssue) -> ApiError:
    """Return the 400 OpenAI answers a request with for ``issue``."""
    param = issue.location or None
    if issue.missing is not None:
        name = f"{param}.{issue.missing}" if param else issue.missing
        return ApiError(
            400,
            f"Missing required parameter: '{name}'.",
            param=name,
            code="missing_required_parameter",
        )
    if issue.unexpected is not None:
        name = f"{param}.{issue.unexpected}" if param else issue.unexpected
        return ApiError(
            400,
            f"Unrecognized request argument supplied: {name}",
            param=name,
            code="unknown_parameter",
        )
    if issue.keyword == "type":
        return ApiError(
            400, f"Invalid type for '{param}': {issue.message}", param=param, code="invalid_type"
        )
    return ApiError(
        400, f"Invalid value for '{param}': {issue.message}", param=param, code="invalid_value"
    )


class SchemaBook:
    """The OpenAPI subset of one emulator: lazy loading, cached validators, multipart coercion."""

    def __init__(self) -> None:
        self._document: dict[str, Any] | None = None
        self._registry: Registry[Any] | None = None
        self._validators: dict[str, Draft202012Validator] = {}
        self._cache: dict[tuple[str, str], tuple[SchemaIssue, ...]] = {}

    @property
    def schemas(self) -> Mapping[str, Any]:
        """The component schemas by name (loads the subset on first use)."""
        return self._load()["components"]["schemas"]

    def _load(self) -> dict[str, Any]:
        if self._document is None:
            text = (
                resources.files("bot.testing").joinpath("schemas", "openai-subset.json").read_text()
            )
            self._document = json.loads(text)
            self._registry = Registry().with_resource(
                SUBSET_URI, DRAFT202012.create_resource(self._document)
            )
        return self._document

    def validator(self, name: str) -> Draft202012Validator:
        """Return the compiled validator for component schema ``name``."""
        found = self._validators.get(name)
        if found is None:
            self._load()
            if name not in self.schemas:
                raise KeyError(f"{name} is not in openai-subset.json: add it to build_subset.py")
            ref = {"$ref": f"{SUBSET_URI}#/components/schemas/{name}"}
            found = Draft202012Validator(ref, registry=self._registry)
            self._validators[name] = found
        return found

    def issues(self, name: str, instance: Any) -> tuple[SchemaIssue, ...]:
        """Return why ``instance`` does not match schema ``name`` (empty when it does)."""
        validator = self.validator(name)
        if validator.is_valid(instance):
            return ()
        return _collect(validator.iter_errors(instance))

    def cached_issues(self, name: str, instance: Any, key: str) -> tuple[SchemaIssue, ...]:
        """Like :meth:`issues`, remembered under ``key`` (a canonical form of ``instance``)."""
        cache_key = (name, key)
        cached = self._cache.get(cache_key)
        if cached is None:
            cached = self.issues(name, instance)
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
            self._cache[cache_key] = cached
        return cached

    def shape_issues(self, name: str, instance: Any) -> tuple[SchemaIssue, ...]:
        """Like :meth:`issues`, validating each *shape* once: free text is blanked for the key.

        Used for the emulator's own stream chunks, whose text fields are plain strings in the
        schema, so two chunks that differ only in text are equally valid.
        """
        return self.cached_issues(name, instance, _canonical(_skeleton(instance)))

    def chat_request_issues(self, body: Any) -> tuple[SchemaIssue, ...]:
        """Like ``issues("CreateChatCompletionRequest", body)``, with each message and the rest
        of the body validated once per distinct value (conversations resend their history)."""
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return self.issues("CreateChatCompletionRequest", body)
        stub = {**body, "messages": [{"role": "user", "content": "stub"}]}
        found = list(self.cached_issues("CreateChatCompletionRequest", stub, _canonical(stub)))
        for index, message in enumerate(messages):
            issues = self.cached_issues(
                "ChatCompletionRequestMessage", message, _canonical(message)
            )
            found.extend(replace(issue, path=("messages", index, *issue.path)) for issue in issues)
        return tuple(found[:MAX_ISSUES])

    def responses_request_issues(self, body: Any) -> tuple[SchemaIssue, ...]:
        """Like ``issues("CreateResponse", body)``, each ``input`` item validated once per value,
        plus OpenAI's refusal of unknown top-level parameters (the schema itself allows them)."""
        items = body.get("input") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            found = list(self.issues("CreateResponse", body))
        else:
            stub = {**body, "input": "stub"}
            found = list(self.cached_issues("CreateResponse", stub, _canonical(stub)))
            for index, item in enumerate(items):
                issues = self.cached_issues("InputItem", item, _canonical(item))
                found.extend(replace(issue, path=("input", index, *issue.path)) for issue in issues)
        if isinstance(body, dict):
            known = self.property_names("CreateResponse")
            found.extend(
                SchemaIssue((), f"unknown parameter {key!r}", "additionalProperties", None, key)
                for key in body
                if key not in known
            )
        return tuple(found[:MAX_ISSUES])

    def property_names(self, name: str) -> frozenset[str]:
        """Every property ``name`` declares, through ``allOf`` and ``$ref``."""
        pending: list[Any] = [self.schemas[name]]
        found: set[str] = set()
        while pending:
            node = self.resolve(pending.pop())
            found.update(node.get("properties") or {})
            pending.extend(node.get("allOf") or ())
        return frozenset(found)

    # ---- schema walking for multipart coercion ------------------------------------------

    def resolve(self, node: Any) -> Mapping[str, Any]:
        """Follow ``$ref`` (within the subset) until a schema object without one is reached."""
        for _ in range(32):
            if not isinstance(node, Mapping):
                return {}
            ref = node.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#/components/schemas/"):
                return node
            node = self.schemas.get(ref.rsplit("/", 1)[1], {})
        return {}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def _skeleton(value: Any) -> Any:
    """``value`` with the strings/ints of ``FREE_TEXT_KEYS`` blanked (types are kept)."""
    if isinstance(value, dict):
        return {
            key: _blank(item) if key in FREE_TEXT_KEYS else _skeleton(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_skeleton(item) for item in value]
    return value


def _blank(value: Any) -> Any:
    if isinstance(value, str):
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return 0
    return _skeleton(value)


def _collect(errors: Iterable[ValidationError]) -> tuple[SchemaIssue, ...]:
    listed = list(errors)
    best = best_match(listed)
    ordered = [best, *(e for e in listed if e is not best)] if best is not None else listed
    return tuple(_issue(e) for e in ordered[:MAX_ISSUES])
