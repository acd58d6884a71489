"""The conversation store: SQLite by default, PostgreSQL for several processes.

Open one with ``await open_store(dsn_or_path)``; it speaks the ``Store`` protocol.
"""

from bot.store.errors import (
    ExchangeStateError,
    MigrationError,
    SchemaTooNewError,
    StoreLocationError,
)
from bot.store.factory import open_store, parse_location
from bot.store.models import (
    Conversation,
    Exchange,
    ExchangeRecord,
    ForgetReport,
    InterruptedExchange,
    LedgerRecord,
    NewTurn,
    StoredImage,
    Turn,
    Usage,
    UsageTotals,
    UserTurn,
)
from bot.store.protocol import Store
from bot.store.tokens import TokenCounter

__all__ = [
    "Conversation",
    "Exchange",
    "ExchangeRecord",
    "ExchangeStateError",
    "ForgetReport",
    "InterruptedExchange",
    "LedgerRecord",
    "MigrationError",
    "NewTurn",
    "SchemaTooNewError",
    "Store",
    "StoreLocationError",
    "StoredImage",
    "TokenCounter",
    "Turn",
    "Usage",
    "UsageTotals",
    "UserTurn",
    "open_store",
    "parse_location",
]
