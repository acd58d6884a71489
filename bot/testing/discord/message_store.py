"""Messages per channel, in order, indexed by id; nothing here scans all history."""

from __future__ import annotations

import collections
from collections.abc import Callable

from bot.testing.discord.models import StoredMessage

TOUCH_LOG = 65_536


class MessageStore:
    """Keeps live messages per channel (insertion order) plus an id index including deleted ones.

    Args:
        retention: keep at most this many messages per channel (oldest dropped); None keeps all.
    """

    def __init__(self, retention: int | None = None) -> None:
        self._retention = retention
        self._by_channel: dict[int, dict[int, StoredMessage]] = {}
        self._by_id: dict[int, StoredMessage] = {}
        self._by_nonce: dict[tuple[int, str], StoredMessage] = {}
        self._seq = 0
        self._touches: collections.deque[tuple[int, StoredMessage]] = collections.deque(
            maxlen=TOUCH_LOG
        )
        self.touch_count = 0

    def touch(self, message: StoredMessage) -> None:
        """Notes that a message was created or changed (waiters look only at touched ones)."""
        self.touch_count += 1
        self._touches.append((self.touch_count, message))

    def touched_since(self, touch_number: int) -> list[StoredMessage] | None:
        """Messages touched after ``touch_number`` (oldest first); None if the log lost some."""
        if self._touches and self._touches[0][0] > touch_number + 1:
            return None
        found: list[StoredMessage] = []
        for number, message in reversed(self._touches):
            if number <= touch_number:
                break
            found.append(message)
        found.reverse()
        return found

    @property
    def last_seq(self) -> int:
        return self._seq

    def next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def add(self, message: StoredMessage) -> None:
        """Stores a message (replacing one with the same id, keeping its place)."""
        channel_messages = self._by_channel.setdefault(message.channel_id, {})
        channel_messages[message.id] = message
        self._by_id[message.id] = message
        self.touch(message)
        if message.nonce is not None:
            self._by_nonce[(message.author.id, str(message.nonce))] = message
        if self._retention is not None and len(channel_messages) > self._retention:
            oldest_id = next(iter(channel_messages))
            dropped = channel_messages.pop(oldest_id)
            self._by_id.pop(oldest_id, None)
            if dropped.nonce is not None:
                self._by_nonce.pop((dropped.author.id, str(dropped.nonce)), None)

    def get(self, message_id: int, *, include_deleted: bool = False) -> StoredMessage | None:
        message = self._by_id.get(message_id)
        if message is None or (message.deleted_at is not None and not include_deleted):
            return None
        return message

    def by_nonce(self, author_id: int, nonce: str | int) -> StoredMessage | None:
        message = self._by_nonce.get((author_id, str(nonce)))
        return message if message is not None and message.deleted_at is None else None

    def in_channel(self, channel_id: int) -> list[StoredMessage]:
        """Live messages of a channel in the order they were stored."""
        return list(self._by_channel.get(channel_id, {}).values())

    def latest_in_channel(self, channel_id: int) -> StoredMessage | None:
        messages = self._by_channel.get(channel_id)
        if not messages:
            return None
        return messages[next(reversed(messages))]

    def since_seq(self, channel_id: int, seq: int) -> list[StoredMessage]:
        """Live messages of a channel after creation number ``seq`` (newest scanned first)."""
        found: list[StoredMessage] = []
        for message in reversed(self._by_channel.get(channel_id, {}).values()):
            if message.seq <= seq:
                break
            found.append(message)
        found.reverse()
        return found

    def mark_deleted(self, message: StoredMessage, at: float) -> None:
        message.deleted_at = at
        self._by_channel.get(message.channel_id, {}).pop(message.id, None)
        self.touch(message)

    def history(
        self,
        channel_id: int,
        *,
        limit: int,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
    ) -> list[StoredMessage]:
        """Messages newest first, like ``GET /channels/{c}/messages`` (non-ephemeral only)."""
        ordered = sorted(
            (m for m in self._by_channel.get(channel_id, {}).values() if not m.ephemeral),
            key=lambda m: m.id,
        )
        if around is not None:
            older = [m for m in ordered if m.id < around][-(limit // 2) :] if limit > 1 else []
            newer = [m for m in ordered if m.id >= around][: limit - len(older)]
            return list(reversed(older + newer))
        if after is not None:
            return list(reversed([m for m in ordered if m.id > after][:limit]))
        if before is not None:
            ordered = [m for m in ordered if m.id < before]
        return list(reversed(ordered[-limit:])) if limit else []

    def finder(
        self,
        channel_id: int,
        since_seq: int,
        author_id: int | None,
        predicate: Callable[[StoredMessage], bool] | None,
    ) -> Callable[[], StoredMessage | None]:
        """A check for a live message in a channel created after ``since_seq`` that matches.

        The first call scans the channel once; later calls look only at messages touched
        (created, edited, deleted) since the previous call, so waiting stays cheap under load.
        """
        cursor: int | None = None

        def wanted(message: StoredMessage) -> bool:
            if message.channel_id != channel_id or message.seq <= since_seq:
                return False
            if message.deleted_at is not None:
                return False
            if author_id is not None and message.author.id != author_id:
                return False
            return predicate is None or predicate(message)

        def find() -> StoredMessage | None:
            nonlocal cursor
            touched = self.touched_since(cursor) if cursor is not None else None
            candidates = touched if touched is not None else self.since_seq(channel_id, since_seq)
            cursor = self.touch_count
            return next((message for message in candidates if wanted(message)), None)

        return find
