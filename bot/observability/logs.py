"""Log records that say which shards wrote them: ``[shard 0-1/4] ...`` on every line.

When several processes split a bot, their logs end up side by side (``docker compose logs``); the
prefix tells them apart. The filter sits on the root logger's handlers, so records of every
library get it, and it also sets ``record.shard`` for formatters that want a field.
"""

from __future__ import annotations

import logging
from collections.abc import Callable


class ShardLogFilter(logging.Filter):
    """Prefixes each record's message with this process's shards (once per record)."""

    def __init__(self, label: str) -> None:
        super().__init__()
        if "%" in label:
            raise ValueError("a shard label must not contain '%'")
        self.label = label
        self._prefix = f"[shard {label}] "

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "shard", None) is None:
            record.shard = self.label
            record.msg = self._prefix + str(record.msg)
        return True


def install_shard_logging(label: str, logger: logging.Logger | None = None) -> Callable[[], None]:
    """Put a :class:`ShardLogFilter` on every handler of ``logger`` (default: the root logger).

    Returns:
        A function that takes the filter off again.
    """
    target = logger or logging.getLogger()
    shard_filter = ShardLogFilter(label)
    handlers = list(target.handlers)
    for handler in handlers:
        # First, so that filters after it (the secret redaction) see the whole line.
        handler.filters.insert(0, shard_filter)

    def remove() -> None:
        for handler in handlers:
            handler.removeFilter(shard_filter)

    return remove
