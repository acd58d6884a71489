"""The conversation store: SQLite by default, PostgreSQL for several processes.

Open one with ``await open_store(dsn_or_path)``; it speaks the ``Store`` protocol, the
composition of the narrow ones by concern (``ConversationStore``, ``SettingsStore``, ...).
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
from bot.store.protocol import (
    ConversationStore,
    ImageStore,
    SettingsStore,
    Store,
    ToolLedgerStore,
    UsageStore,
    UserDataStore,
)
from bot.store.tokens import TokenCounter

__all__ = [
    "Conversation",
    "ConversationStore",
    "Exchange",
    "ExchangeRecord",
    "ExchangeStateError",
    "ForgetReport",
    "ImageStore",
    "InterruptedExchange",
    "LedgerRecord",
    "MigrationError",
    "NewTurn",
    "SchemaTooNewError",
    "SettingsStore",
    "Store",
    "StoreLocationError",
    "StoredImage",
    "TokenCounter",
    "ToolLedgerStore",
    "Turn",
    "Usage",
    "UsageStore",
    "UsageTotals",
    "UserDataStore",
    "UserTurn",
    "open_store",
    "parse_location",
]
