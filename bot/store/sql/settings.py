"""Settings per scope (guild, channel, user) and Discord id, as one JSON object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.store.models import JsonDict
from bot.store.sql.base import SqlConcern
from bot.store.sql.program import one, run, single

SET_SETTINGS = (
    "INSERT INTO settings (scope, scope_id, data, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (scope, scope_id) DO UPDATE SET data = excluded.data, "
    "updated_at = excluded.updated_at"
)


class SettingsSql(SqlConcern):
    """``SettingsStore`` in SQL."""

    async def get_settings(self, scope: str, scope_id: int) -> JsonDict:
        """Settings stored for a scope (``"guild"``, ``"channel"``, ``"user"``) and id."""
        statement = one(
            "SELECT data FROM settings WHERE scope = ? AND scope_id = ?", scope, scope_id
        )
        row = await self._sql.read(lambda: single(statement))
        return dict(self._dialect.from_json(row["data"])) if row else {}

    async def set_settings(self, scope: str, scope_id: int, data: Mapping[str, Any]) -> None:
        """Replace the settings of a scope and id."""
        stored = self._dialect.json(dict(data))
        statement = run(SET_SETTINGS, scope, scope_id, stored, self._now())
        await self._sql.write(lambda: single(statement))
