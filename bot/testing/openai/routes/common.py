"""Steps every route shares: receive and validate, apply faults, answer with JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from ..errors import ApiError, ConnectionDropped
from ..faults import Fault
from ..multipart import coerce_to_schema, for_validation, read_form
from ..state import EmulatorState
from ..validation import SchemaIssue, api_error_for

JSON_PARSE_MESSAGE = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
    "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
    "valid JSON. If you have trouble figuring out how to fix this, please contact us through our "
    "help center at help.openai.com.)"
)
CORRUPT_JSON_BODY = b'{"id": "chatcmpl-corrupt", "object": "chat.compl'
IssueFinder = Callable[[Any], tuple[SchemaIssue, ...]]
REQUEST_ID = web.RequestKey("toolcord_openai_request_id", str)


def base_headers(request: web.Request) -> dict[str, str]:
    """Headers OpenAI puts on every response."""
    return {
        "x-request-id": request.get(REQUEST_ID, ""),
        "openai-version": "2020-10-01",
        "openai-processing-ms": "1",
    }


def _check_auth(state: EmulatorState, request: web.Request) -> None:
    expected = state.options.api_key
    if expected is not None and request.headers.get("Authorization") != f"Bearer {expected}":
        raise Fault.invalid_api_key().to_error()


def authenticate(state: EmulatorState, request: web.Request) -> None:
    """Raise the 401 OpenAI answers when the emulator has a key and the request lacks it."""
    _check_auth(state, request)


def reject(
    state: EmulatorState, request: web.Request, schema: str, issue: SchemaIssue, error: ApiError
) -> ApiError:
    """Record a request violation and return the error to raise."""
    state.add_violation("request", request, schema, [issue])
    return error


async def receive_json(
    state: EmulatorState, request: web.Request, schema: str, finder: IssueFinder | None = None
) -> dict[str, Any]:
    """Read, record, authenticate and validate a JSON request; return its body."""
    raw = await request.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
        parsed = False
    else:
        parsed = True
    state.recorder.add(
        request.method, request.path, request.query, request.headers, body=raw, json=body
    )
    _check_auth(state, request)
    if not parsed or not isinstance(body, dict):
        issue = SchemaIssue((), "the body is not a JSON object", "type")
        raise reject(state, request, schema, issue, ApiError(400, JSON_PARSE_MESSAGE))
    _validate(state, request, schema, body, finder)
    return body


async def receive_form(state: EmulatorState, request: web.Request, schema: str) -> dict[str, Any]:
    """Read, record, authenticate and validate a multipart request; return its fields.

    Numbers and booleans are converted back from text as the schema says; file fields hold
    :class:`~..multipart.UploadedFile` objects.
    """
    if not request.content_type.startswith("multipart/form-data"):
        raw = await request.read()
        state.recorder.add(request.method, request.path, request.query, request.headers, body=raw)
        message = (
            f"Invalid Content-Type header ({request.content_type}), expected multipart/form-data. "
            "(HINT: If you're using curl, you can pass -H 'Content-Type: multipart/form-data')"
        )
        issue = SchemaIssue((), f"content type {request.content_type} is not multipart", "type")
        raise reject(state, request, schema, issue, ApiError(400, message))
    form = await read_form(request, keep_bytes=state.options.max_upload_bytes + 1)
    state.recorder.add(
        request.method,
        request.path,
        request.query,
        request.headers,
        form=form.fields,
        files=form.files,
    )
    _check_auth(state, request)
    fields = coerce_to_schema(state.book, {"$ref": f"#/components/schemas/{schema}"}, form.fields)
    _validate(state, request, schema, for_validation(fields), None)
    return dict(fields)


def _validate(
    state: EmulatorState, request: web.Request, schema: str, body: Any, finder: IssueFinder | None
) -> None:
    if not state.options.validate_requests:
        return
    issues = finder(body) if finder is not None else state.book.issues(schema, body)
    if issues:
        state.add_violation("request", request, schema, issues)
        raise api_error_for(issues[0])


def abort(request: web.Request) -> None:
    """Drop the connection without a response (a scripted fault)."""
    if request.transport is not None:
        request.transport.abort()
    raise ConnectionDropped("connection dropped by a scripted fault")


async def before_response(
    state: EmulatorState, request: web.Request, fault: Fault | None, model: str, *, stream: bool
) -> None:
    """Apply the part of ``fault`` that happens before any response byte."""
    if fault is None:
        return
    if not fault.is_delivery:
        raise fault.to_error(model)
    if fault.kind == "stall":
        await state.pause(fault.seconds)
    elif _drops_before_response(fault, stream):
        abort(request)
    elif not stream and fault.kind in ("slow_first_token", "stall_mid_stream"):
        await state.pause(fault.seconds)


def _drops_before_response(fault: Fault, stream: bool) -> bool:
    if fault.kind == "disconnect":
        return not stream or fault.after_chunks <= 0
    return fault.kind == "cut_stream" and not stream


def respond_json(
    state: EmulatorState,
    request: web.Request,
    data: Mapping[str, Any],
    schema: str,
    *,
    status: int = 200,
    fault: Fault | None = None,
    headers: Mapping[str, str] | None = None,
    checked: bool = False,
) -> web.Response:
    """Return a JSON response after checking ``data`` against ``schema`` (unless ``checked``)."""
    if not checked:
        state.check_response(request, schema, data)
    if fault is not None and fault.kind == "corrupt_chunk":
        body = CORRUPT_JSON_BODY
    else:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    all_headers = {**base_headers(request), **(headers or {})}
    return web.Response(
        status=status, body=body, content_type="application/json", headers=all_headers
    )


def error_response(state: EmulatorState, request: web.Request, error: ApiError) -> web.Response:
    """Return the JSON response for ``error``."""
    return respond_json(
        state, request, error.body, "ErrorResponse", status=error.status, headers=error.headers
    )


def unsupported(feature: str) -> ApiError:
    """Return a 400 for a real OpenAI feature the emulator does not implement."""
    return ApiError(
        400,
        f"The toolcord OpenAI emulator does not support {feature}. Turn it off in the test, or "
        "extend bot/testing/openai.",
        code="emulator_unsupported",
    )
