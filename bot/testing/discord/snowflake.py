"""Discord snowflake ids and timestamps, generated the way Discord does."""

from __future__ import annotations

import datetime
import time

DISCORD_EPOCH_MS = 1_420_070_400_000
_COUNTER_BITS = 12
_COUNTER_LIMIT = 1 << _COUNTER_BITS
_WORKER_BITS = 1 << 17  # worker 1, process 0: bits 17..21 as real ids carry


def snowflake_time(snowflake: int) -> datetime.datetime:
    """Returns the UTC creation time encoded in a snowflake."""
    ms = (snowflake >> 22) + DISCORD_EPOCH_MS
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)


def iso_timestamp(moment: datetime.datetime | None = None) -> str:
    """Formats a time like Discord's ISO-8601 timestamps (UTC, microseconds, +00:00)."""
    moment = moment or datetime.datetime.now(tz=datetime.UTC)
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def snowflake_timestamp(snowflake: int) -> str:
    """The ISO timestamp of the moment a snowflake was made."""
    return iso_timestamp(snowflake_time(snowflake))


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives a guild's events: ``(guild_id >> 22) % shard_count``."""
    return (guild_id >> 22) % shard_count


class SnowflakeFactory:
    """Makes strictly increasing, time-based snowflakes: ``(ms_since_epoch << 22) | counter``."""

    def __init__(self) -> None:
        self._last_ms = 0
        self._counter = 0

    def next(self) -> int:
        """Returns a new snowflake, later than every one made before."""
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        if now_ms > self._last_ms:
            self._last_ms, self._counter = now_ms, 0
        else:
            self._counter += 1
            if self._counter >= _COUNTER_LIMIT:
                self._last_ms, self._counter = self._last_ms + 1, 0
        return (self._last_ms << 22) | _WORKER_BITS | self._counter

    def next_distinct_time(self) -> int:
        """Returns a new snowflake whose timestamp differs from every earlier one.

        World objects (guilds, users, channels) use these so that guild ids spread over shards.
        """
        now_ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        self._last_ms, self._counter = max(now_ms, self._last_ms + 1), 0
        return (self._last_ms << 22) | _WORKER_BITS

    def for_shard(self, shard_id: int, shard_count: int) -> int:
        """Returns a new snowflake that, used as a guild id, lands on ``shard_id``."""
        if not 0 <= shard_id < shard_count:
            raise ValueError(f"shard_id {shard_id} is outside 0..{shard_count - 1}")
        while True:
            candidate = self.next_distinct_time()
            if shard_of(candidate, shard_count) == shard_id:
                return candidate
