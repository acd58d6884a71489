"""``SqlStore``: the ``Store`` protocol made of its concerns, on one dialect's executor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.store.sql.conversations import ConversationsSql
from bot.store.sql.images import ImagesSql
from bot.store.sql.ledger import LedgerSql
from bot.store.sql.program import Executor
from bot.store.sql.settings import SettingsSql
from bot.store.sql.usage import UsageSql
from bot.store.sql.user_data import UserDataSql
from bot.store.tokens import TokenCounter


class SqlStore(ConversationsSql, ImagesSql, UsageSql, SettingsSql, UserDataSql, LedgerSql):
    """Every concern's SQL on one executor; the backends add opening and closing."""

    def __init__(
        self,
        executor: Executor,
        *,
        owner: str,
        counter: TokenCounter,
        clock: Callable[[], datetime],
    ) -> None:
        self.owner = owner
        self.counter = counter
        self._sql = executor
        self._clock = clock
