"""``Store`` is the composition of the narrow store Protocols, and both backends speak it."""

from __future__ import annotations

import inspect

from bot.store import protocol
from bot.store.protocol import Store

NARROW = (
    protocol.ConversationStore,
    protocol.ImageStore,
    protocol.UsageStore,
    protocol.SettingsStore,
    protocol.UserDataStore,
    protocol.ToolLedgerStore,
)


def _methods(cls: type) -> set[str]:
    return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if name[0] != "_"}


def test_store_is_exactly_the_narrow_protocols_and_its_own_lifecycle() -> None:
    narrow = [_methods(concern) for concern in NARROW]
    assert sum(len(methods) for methods in narrow) == len(set().union(*narrow))  # disjoint
    assert _methods(Store) == set().union(*narrow) | {"close", "schema_version"}
    assert all(concern in Store.__mro__ for concern in NARROW)


async def test_each_backend_speaks_every_narrow_protocol(store: Store) -> None:
    assert isinstance(store, Store)
    for concern in NARROW:
        assert _methods(concern) <= _methods(type(store))
