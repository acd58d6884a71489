"""Rate-limit headers and (opt-in) realistic per-channel and global limits."""

from __future__ import annotations

import dataclasses
import hashlib
import time


@dataclasses.dataclass
class RateLimitConfig:
    """Rate-limit behaviour; every duration is overridable so that tests run fast.

    Args:
        realistic: enforce ``message_limit`` per ``message_window`` per channel for message POST
            and PATCH, and ``global_limit`` per ``global_window`` over all bot requests.
        generous_limit: the ``X-RateLimit-Limit`` advertised when not realistic (or for other
            routes), so that discord.py runs requests in parallel.
    """

    realistic: bool = False
    message_limit: int = 5
    message_window: float = 5.0
    global_limit: int = 50
    global_window: float = 1.0
    generous_limit: int = 50
    generous_reset_after: float = 1.0


@dataclasses.dataclass
class _Window:
    started: float
    count: int = 0


@dataclasses.dataclass(frozen=True)
class RateDecision:
    """Headers to send, and, when ``limited``, the 429 to answer instead."""

    headers: dict[str, str]
    limited: bool = False
    retry_after: float = 0.0
    is_global: bool = False


MESSAGE_BUCKET = "channel-messages"


class RateLimiter:
    """Decides the rate-limit headers of each bot request; counts the 429s it causes."""

    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self.rate_limited = 0
        self._windows: dict[tuple[str, str], _Window] = {}
        self._global = _Window(started=0.0)

    def reset(self) -> None:
        self._windows.clear()
        self._global = _Window(started=0.0)

    def decide(self, bucket: str, major: str) -> RateDecision:
        """Charges one request to ``bucket`` (a route template) for major parameter ``major``."""
        now = time.monotonic()
        if not self.config.realistic:
            return RateDecision(self.generous_headers(bucket))
        global_retry = self._charge_global(now)
        if global_retry is not None:
            self.rate_limited += 1
            return RateDecision(self.generous_headers(bucket), True, global_retry, True)
        if bucket != MESSAGE_BUCKET:
            return RateDecision(self.generous_headers(bucket))
        return self._charge_bucket(bucket, major, now)

    def _charge_global(self, now: float) -> float | None:
        window = self._global
        if now - window.started >= self.config.global_window:
            window.started, window.count = now, 0
        if window.count >= self.config.global_limit:
            return window.started + self.config.global_window - now
        window.count += 1
        return None

    def _charge_bucket(self, bucket: str, major: str, now: float) -> RateDecision:
        limit, length = self.config.message_limit, self.config.message_window
        window = self._windows.get((bucket, major))
        if window is None or now - window.started >= length:
            window = self._windows[(bucket, major)] = _Window(started=now)
        reset_after = max(window.started + length - now, 0.001)
        if window.count >= limit:
            self.rate_limited += 1
            headers = _headers(bucket, limit, 0, reset_after)
            return RateDecision(headers, True, reset_after, False)
        window.count += 1
        return RateDecision(_headers(bucket, limit, limit - window.count, reset_after))

    def generous_headers(self, bucket: str) -> dict[str, str]:
        limit = self.config.generous_limit
        return _headers(bucket, limit, limit - 1, self.config.generous_reset_after)


def _headers(bucket: str, limit: int, remaining: int, reset_after: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Bucket": bucket_hash(bucket),
    }


def bucket_hash(bucket: str) -> str:
    """A stable, opaque bucket id like Discord's ``X-RateLimit-Bucket``."""
    return hashlib.sha1(bucket.encode(), usedforsecurity=False).hexdigest()[:32]
