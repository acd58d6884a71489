"""Which Discord shards this process runs, its name in the store, and which shards are ready.

Several toolcord processes can split one bot: each runs ``discord.shard_ids`` out of
``discord.shard_count`` shards. A guild's events go to shard ``(guild_id >> 22) % shard_count``
and direct messages to shard 0, so a process only ever sees its own guilds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.errors import ConfigError
from bot.settings import DiscordSettings

SINGLE_PROCESS_NAME = "main"


@dataclass(frozen=True)
class ShardPlan:
    """This process's shards: ``ids`` of ``count``; None for "every shard, as Discord says"."""

    count: int | None
    ids: tuple[int, ...] | None

    @property
    def runs_every_shard(self) -> bool:
        return self.ids is None or (self.count is not None and len(self.ids) == self.count)


def shard_plan(settings: DiscordSettings) -> ShardPlan:
    """The shard settings checked together.

    Raises:
        ConfigError: naming the setting the bot owner must fix.
    """
    count, ids = settings.shard_count, settings.shard_ids
    if count is not None and count < 1:
        raise ConfigError(
            f"discord.shard_count is {count}: set it to 1 or more (or leave it unset for one "
            "process with Discord's recommended count)."
        )
    if ids is None:
        return ShardPlan(count, None)
    if count is None:
        raise ConfigError(
            "discord.shard_ids is set but discord.shard_count is not: set shard_count to the "
            "total number of shards over all processes."
        )
    if not ids:
        raise ConfigError(
            "discord.shard_ids is empty: list this process's shards, e.g. [0, 1], or leave it "
            "unset to run every shard."
        )
    wrong = sorted({shard for shard in ids if not 0 <= shard < count})
    if wrong:
        raise ConfigError(
            f"discord.shard_ids has {wrong}, outside 0..{count - 1}: every shard id must be "
            "below discord.shard_count."
        )
    if len(set(ids)) != len(ids):
        raise ConfigError(f"discord.shard_ids {ids} names a shard twice: list each shard once.")
    return ShardPlan(count, tuple(sorted(ids)))


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that receives a guild's events (direct messages: shard 0)."""
    if guild_id is None:
        return 0
    return (guild_id >> 22) % shard_count


def _ranges(ids: Sequence[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2,5"``."""
    parts: list[str] = []
    start = previous = ids[0]
    for shard in [*ids[1:], None]:
        if shard is not None and shard == previous + 1:
            previous = shard
            continue
        parts.append(str(start) if start == previous else f"{start}-{previous}")
        if shard is not None:
            start = previous = shard
    return ",".join(parts)


def process_name(settings: DiscordSettings) -> str:
    """This process's stable name in the store, e.g. ``"shards-0-1of4"``.

    The store's ``recover()`` marks only this name's unfinished answers as interrupted, so a
    restarted process never touches the answers another process is still writing. A process that
    runs every shard is ``"main"`` (what a single-process store has always used).
    """
    plan = shard_plan(settings)
    if plan.ids is None or plan.runs_every_shard:
        return SINGLE_PROCESS_NAME
    return f"shards-{_ranges(plan.ids)}of{plan.count}"


def shard_label(settings: DiscordSettings) -> str:
    """This process's shards for logs: ``"0-1/4"``, or ``"all"``."""
    plan = shard_plan(settings)
    if plan.ids is None:
        return "all" if plan.count is None else f"all/{plan.count}"
    return f"{_ranges(plan.ids)}/{plan.count}"


class ShardTracker:
    """Which of this process's shards are connected and ready (fed by gateway events)."""

    def __init__(self) -> None:
        self._expected: tuple[int, ...] = ()
        self._ready: set[int] = set()

    def expect(self, shard_ids: Iterable[int]) -> None:
        """The shards this process runs (known once the client launched them)."""
        self._expected = tuple(sorted(shard_ids))

    @property
    def expected(self) -> tuple[int, ...]:
        return self._expected

    def ready(self, shard_id: int) -> None:
        """The shard identified (READY and its guilds) or resumed."""
        self._ready.add(shard_id)

    def lost(self, shard_id: int) -> None:
        """The shard's connection dropped; it is not ready until it resumes or re-identifies."""
        self._ready.discard(shard_id)

    def status(self) -> tuple[bool, str]:
        """Whether every shard of this process is ready, and a line saying which are not."""
        if not self._expected:
            return False, "no shard launched yet"
        missing = [shard for shard in self._expected if shard not in self._ready]
        if missing:
            return False, f"shard(s) {missing} not ready"
        return True, f"shard(s) {list(self._expected)} ready"
