"""The health endpoints of one bot process: liveness, readiness and Prometheus metrics.

* ``GET /healthz``: 200 while the process's event loop answers (liveness: restart it if not).
* ``GET /readyz``: 200 when every readiness check passes (this process's shards connected and
  ready, the store reachable), else 503; the JSON body says which check failed and why.
* ``GET /metrics``: the Prometheus text exposition of this process's metrics.

Off unless ``observability.health_port`` is set; it binds ``observability.health_host``
(default 127.0.0.1, so nothing outside the machine or container reaches it unless you say so).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from bot.observability.metrics import BotMetrics

log = logging.getLogger("toolcord.health")

CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class CheckResult:
    """One readiness check: passed or not, and a short reason."""

    ok: bool
    detail: str


ReadinessCheck = Callable[[], Awaitable[CheckResult]]


class HealthServer:
    """An aiohttp server for ``/healthz``, ``/readyz`` and ``/metrics``.

    Args:
        host: the address to bind.
        port: the port (0 picks a free one; see :attr:`url` after :meth:`start`).
        metrics: what ``/metrics`` serves.
        checks: readiness checks by name, run concurrently on each ``/readyz``.
        check_timeout_s: a check that takes longer fails.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: BotMetrics,
        checks: Mapping[str, ReadinessCheck],
        check_timeout_s: float = CHECK_TIMEOUT_S,
    ) -> None:
        self._host = host
        self._port = port
        self._metrics = metrics
        self._checks = dict(checks)
        self._check_timeout_s = check_timeout_s
        self._runner: web.AppRunner | None = None
        self.url: str | None = None

    async def start(self) -> str:
        """Bind and serve; returns the base URL, e.g. ``http://127.0.0.1:9000``.

        Raises:
            OSError: the address is taken or not allowed (the owner must pick another port).
        """
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics_page)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self.url = f"http://{_url_host(str(host))}:{port}"
        return self.url

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def readiness(self) -> dict[str, CheckResult]:
        """Run every check (concurrently, each under the timeout)."""
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_check(name) for name in names))
        return dict(zip(names, results, strict=True))

    async def _run_check(self, name: str) -> CheckResult:
        try:
            return await asyncio.wait_for(self._checks[name](), self._check_timeout_s)
        except TimeoutError:
            return CheckResult(False, f"no answer within {self._check_timeout_s:g} s")
        except Exception as exc:  # a broken check is a failed check, never a crashed server
            log.warning("readiness check %s failed: %s", name, exc)
            return CheckResult(False, f"{type(exc).__name__}: {exc}")

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _readyz(self, request: web.Request) -> web.Response:
        results = await self.readiness()
        ready = all(result.ok for result in results.values())
        body = {
            "ready": ready,
            "checks": {
                name: {"ok": result.ok, "detail": result.detail} for name, result in results.items()
            },
        }
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._metrics.render(), headers={"Content-Type": self._metrics.content_type}
        )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def store_check(ping: Callable[[], Awaitable[object]]) -> ReadinessCheck:
    """A readiness check that passes when ``ping()`` (one cheap store query) succeeds."""

    async def check() -> CheckResult:
        await ping()
        return CheckResult(True, "reachable")

    return check


def shards_check(
    status: Callable[[], tuple[bool, str]], closed: Callable[[], bool]
) -> ReadinessCheck:
    """A readiness check on this process's shards (``status`` from the shard tracker)."""

    async def check() -> CheckResult:
        if closed():
            return CheckResult(False, "the Discord client is closed")
        ok, detail = status()
        return CheckResult(ok, detail)

    return check
