"""The REST front door: record, inject faults, authorise, rate-limit, route (anchored), answer."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time

from aiohttp import web

from bot.testing.discord.cdn import CdnStore
from bot.testing.discord.faults import FaultInjector, FaultRule
from bot.testing.discord.ratelimit import RateDecision, RateLimiter
from bot.testing.discord.recorder import RecordedRequest, Recorder
from bot.testing.discord.rest_common import (
    Handler,
    RestError,
    RestRequest,
    RestResponse,
    error,
    read_body,
    to_web_response,
    uploaded_files,
)

API_PREFIX = "/api/v10"
CDN_PREFIX = "/cdn/"
_MAJOR_PARAMS = ("channel_id", "guild_id", "application_id", "interaction_id")


@dataclasses.dataclass(frozen=True)
class RouteSpec:
    """One REST route: ``pattern`` (named groups) is matched against the whole path.

    ``auth`` is ``"bot"`` (needs ``Authorization: Bot <token>``) or ``"token"`` (authorised by
    the interaction token in the URL). ``bucket`` names the rate-limit bucket.
    """

    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: str = "bot"
    bucket: str = ""


def route(
    method: str, pattern: str, handler: Handler, *, auth: str = "bot", bucket: str = ""
) -> RouteSpec:
    return RouteSpec(method, re.compile(pattern), handler, auth, bucket or f"{method} {pattern}")


class RestRouter:
    """aiohttp catch-all handler for ``/api/v10/...`` and ``/cdn/...``."""

    def __init__(
        self,
        token: str,
        recorder: Recorder,
        faults: FaultInjector,
        limiter: RateLimiter,
        cdn: CdnStore,
    ) -> None:
        self._token = token
        self._recorder = recorder
        self._faults = faults
        self._limiter = limiter
        self._cdn = cdn
        self.routes: list[RouteSpec] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        is_api = path == API_PREFIX or path.startswith(API_PREFIX + "/")
        body, parts, valid = await read_body(request)
        record = self._recorder.new_record(
            method=request.method,
            path=path[len(API_PREFIX) :] if is_api else path,
            query=dict(request.query),
            headers=dict(request.headers),
            received_at=time.monotonic(),
            json=body,
            parts=parts,
        )
        response, unhandled = await self._respond(record, is_api, valid)
        record.status, record.completed_at = response.status, time.monotonic()
        record.response = response.body if not isinstance(response.body, bytes) else None
        self._recorder.complete(record, unhandled=unhandled)
        return to_web_response(response)

    async def _respond(
        self, record: RecordedRequest, is_api: bool, valid: bool
    ) -> tuple[RestResponse, bool]:
        fault = self._faults.take(record)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status is not None:
                return _fault_response(fault), False
        if record.path.startswith(CDN_PREFIX):
            return self._cdn_response(record), False
        if not is_api:
            return error(404, 0, "404: Not Found"), True
        spec, params = self._match(record)
        if spec is None:
            return error(404, 0, "404: Not Found"), True
        return await self._call(spec, params, record, valid), False

    def _match(self, record: RecordedRequest) -> tuple[RouteSpec | None, dict[str, str]]:
        for spec in self.routes:
            if spec.method != record.method:
                continue
            match = spec.pattern.fullmatch(record.path)
            if match is not None:
                return spec, match.groupdict()
        return None, {}

    async def _call(
        self, spec: RouteSpec, params: dict[str, str], record: RecordedRequest, valid: bool
    ) -> RestResponse:
        if spec.auth == "bot" and record.headers.get("Authorization") != f"Bot {self._token}":
            return error(401, 0, "401: Unauthorized")
        if not valid:
            return error(400, 50109, "The request body contains invalid JSON.")
        decision = self._rate_decision(spec, params)
        if decision.limited:
            return _rate_limited(decision)
        request = RestRequest(record, params, record.json, uploaded_files(record.parts))
        try:
            response = await spec.handler(request)
        except RestError as problem:
            response = problem.response
        return dataclasses.replace(response, headers={**decision.headers, **response.headers})

    def _rate_decision(self, spec: RouteSpec, params: dict[str, str]) -> RateDecision:
        major = next((params[name] for name in _MAJOR_PARAMS if name in params), "")
        if spec.auth != "bot":
            return RateDecision(self._limiter.generous_headers(spec.bucket))
        return self._limiter.decide(spec.bucket, major)

    def _cdn_response(self, record: RecordedRequest) -> RestResponse:
        found = self._cdn.get(record.path[len(CDN_PREFIX) :])
        if found is None:
            return RestResponse(404, b"Not Found", {"Content-Type": "text/plain"})
        return RestResponse(200, found.data, {"Content-Type": found.content_type})


def _fault_response(fault: FaultRule) -> RestResponse:
    body = fault.response_body()
    return RestResponse(fault.status or 500, body, fault.response_headers())


def _rate_limited(decision: RateDecision) -> RestResponse:
    body = {
        "message": "You are being rate limited.",
        "retry_after": round(decision.retry_after, 3),
        "global": decision.is_global,
    }
    headers = {
        **decision.headers,
        "Via": "1.1 google",
        "Retry-After": str(max(1, round(decision.retry_after))),
    }
    headers["X-RateLimit-Scope"] = "global" if decision.is_global else "user"
    if decision.is_global:
        headers["X-RateLimit-Global"] = "true"
    return RestResponse(429, body, headers)
