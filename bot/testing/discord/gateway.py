"""The gateway: HELLO/IDENTIFY/RESUME, heartbeats, sharded dispatch, faults on the socket."""

from __future__ import annotations

import collections
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import WSMsgType, web

from bot.testing.discord.config import PRIVILEGED_INTENTS, EmulatorConfig
from bot.testing.discord.gateway_session import (
    DispatchRecord,
    GatewayConnection,
    GatewayLogEntry,
    GatewaySession,
    dumps,
)
from bot.testing.discord.models import Guild, JsonDict
from bot.testing.discord.payloads import blank_content
from bot.testing.discord.signal import ChangeSignal
from bot.testing.discord.world import GUILD_MEMBERS_INTENT, GUILDS_INTENT, World

_CLEAN_CLOSE_CODES = (1000, 1001)
GATEWAY_TOPIC = "gateway"


class GatewayHub:
    """Accepts gateway websockets and routes every dispatch to the sessions that should get it."""

    def __init__(self, config: EmulatorConfig, world: World, signal: ChangeSignal) -> None:
        self._config = config
        self._world = world
        self._signal = signal
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: dict[int, GatewayConnection] = {}
        self.log: list[GatewayLogEntry] = []
        self.dispatches: collections.deque[DispatchRecord] = collections.deque(
            maxlen=config.dispatch_log_limit
        )
        self.identifies: list[JsonDict] = []
        self._dispatch_count = 0
        self._connection_count = 0
        self.gateway_url = ""

    # ---- websocket handling ----------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """aiohttp handler of ``/gateway`` (and the resume URL)."""
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self._connection_count += 1
        compress = self._config.honor_compression and request.query.get("compress") == "zlib-stream"
        connection = GatewayConnection(self._connection_count, ws, compress=compress)
        self.connections[connection.id] = connection
        connection.start()
        connection.send_op(10, {"heartbeat_interval": self._config.heartbeat_interval_ms})
        try:
            await self._read_loop(connection)
        finally:
            await self._forget(connection)
        return ws

    async def _read_loop(self, connection: GatewayConnection) -> None:
        async for message in connection.ws:
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            try:
                frame = json.loads(message.data)
                op = frame.get("op")
            except (ValueError, AttributeError):
                await connection.close(4002, "Error while decoding payload.")
                return
            self._log(connection, op, frame.get("d"))
            await self._handle_op(connection, op, frame.get("d"))
            if connection.close_code is not None:
                return

    async def _handle_op(self, connection: GatewayConnection, op: Any, data: Any) -> None:
        if op == 1:
            connection.send_op(11)
        elif op == 2:
            await self._identify(connection, data)
        elif op == 6:
            await self._resume(connection, data)
        elif connection.session is None:
            await connection.close(4003, "Not authenticated.")
        elif op == 8:
            self._members_chunk(connection.session, data)
        elif op not in (3, 4):
            await connection.close(4001, "Unknown opcode.")

    async def _forget(self, connection: GatewayConnection) -> None:
        self.connections.pop(connection.id, None)
        session = connection.session
        if session is not None and session.connection is connection:
            session.connection = None
            client_code = connection.ws.close_code
            if connection.close_code is None and client_code in _CLEAN_CLOSE_CODES:
                self.sessions.pop(session.session_id, None)
        await connection.stop()
        self._signal.notify()

    def _log(self, connection: GatewayConnection, op: Any, data: Any) -> None:
        session = connection.session
        shard = (session.shard_id, session.shard_count) if session is not None else None
        self.log.append(GatewayLogEntry(time.monotonic(), connection.id, shard, op, data))
        self._signal.notify(GATEWAY_TOPIC)

    # ---- IDENTIFY / RESUME -----------------------------------------------------------------

    async def _identify(self, connection: GatewayConnection, data: Any) -> None:
        problem = self._identify_problem(connection, data)
        if problem is not None:
            await connection.close(*problem)
            return
        shard_id, shard_count = data.get("shard") or (0, 1)
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            token=data["token"],
            shard_id=shard_id,
            shard_count=shard_count,
            intents=data.get("intents"),
            identify=data,
            buffer_size=self._config.replay_buffer,
        )
        self._discard_detached(shard_id, shard_count)
        self.identifies.append(data)
        self.sessions[session.session_id] = session
        session.connection = connection
        connection.session = session
        session.push("READY", dumps(self._ready_payload(session)))
        for guild in self._guilds_of(session):
            session.push("GUILD_CREATE", dumps(self._guild_create(session, guild)))
        self._signal.notify()

    def _identify_problem(self, connection: GatewayConnection, data: Any) -> tuple[int, str] | None:
        if connection.session is not None:
            return 4005, "Already authenticated."
        if not isinstance(data, dict) or data.get("token") != self._config.token:
            return 4004, "Authentication failed."
        shard = data.get("shard") or (0, 1)
        if len(shard) != 2 or not 0 <= shard[0] < shard[1]:
            return 4010, "Invalid shard."
        intents = data.get("intents")
        requested = (intents or 0) & PRIVILEGED_INTENTS
        if requested & ~self._config.privileged_intents_enabled:
            return 4014, "Disallowed intent(s)."
        return None

    def _discard_detached(self, shard_id: int, shard_count: int) -> None:
        stale = [
            key
            for key, session in self.sessions.items()
            if session.connection is None
            and (session.shard_id, session.shard_count) == (shard_id, shard_count)
        ]
        for key in stale:
            del self.sessions[key]

    async def _resume(self, connection: GatewayConnection, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        session = self.sessions.get(str(data.get("session_id")))
        valid = session is not None and session.token == data.get("token")
        frames = session.frames_after(int(data.get("seq") or 0)) if session and valid else None
        if session is None or frames is None:
            connection.send_op(9, False)
            return
        if session.connection is not None:
            old = session.connection
            session.connection = None
            await old.close(4009, "Session timed out.")
        session.connection = connection
        connection.session = session
        for frame in frames:
            connection.send_text(frame)
        session.replayed += len(frames)
        session.push("RESUMED", "{}")
        self._signal.notify()

    def _ready_payload(self, session: GatewaySession) -> JsonDict:
        world = self._world
        payload: JsonDict = {
            "v": 10,
            "user": {**world.bot_user.to_payload(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self._guilds_of(session)],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url + "/resume",
            "application": {"id": str(world.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["local"],
            "user_settings": {},
            "auth": {},
        }
        if session.identify.get("shard"):
            payload["shard"] = [session.shard_id, session.shard_count]
        return payload

    def _guilds_of(self, session: GatewaySession) -> list[Guild]:
        return [g for g in self._world.guilds.values() if session.receives(g.id)]

    def _guild_create(self, session: GatewaySession, guild: Guild) -> JsonDict:
        if session.allows(GUILD_MEMBERS_INTENT):
            return guild.to_payload()
        me = guild.members.get(self._world.bot_user.id)
        return guild.to_payload(members=[me] if me is not None else [])

    def _members_chunk(self, session: GatewaySession, data: Any) -> None:
        data = data if isinstance(data, dict) else {}
        guild_ids = data.get("guild_id")
        for guild_id in guild_ids if isinstance(guild_ids, list) else [guild_ids]:
            guild = self._world.guilds.get(int(guild_id or 0))
            if guild is None or not session.receives(guild.id):
                continue
            members = _filter_members(guild, data)
            chunk = {
                "guild_id": str(guild.id),
                "members": [member.to_payload() for member in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [],
            }
            if data.get("presences"):
                chunk["presences"] = []
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            session.push("GUILD_MEMBERS_CHUNK", dumps(chunk))

    # ---- dispatching -----------------------------------------------------------------------

    def dispatch(
        self,
        event: str,
        payload: JsonDict,
        *,
        guild_id: int | None,
        intent: int = 0,
        content_exempt: bool | None = None,
    ) -> DispatchRecord:
        """Sends an event to every session of the right shard whose intents allow it.

        ``content_exempt`` (message events only): False means sessions without the
        message_content intent get the blanked copy, as real Discord does.
        """
        self._dispatch_count += 1
        record = DispatchRecord(
            index=self._dispatch_count,
            event=event,
            payload=payload,
            guild_id=guild_id,
            intent=intent,
            content_exempt=content_exempt,
            at=time.monotonic(),
        )
        self.dispatches.append(record)
        self._deliver(record)
        self._signal.notify(GATEWAY_TOPIC)
        return record

    def redeliver(self, record: DispatchRecord) -> DispatchRecord:
        """Sends a recorded dispatch again, same payload (a duplicate delivery)."""
        return self.dispatch(
            record.event,
            record.payload,
            guild_id=record.guild_id,
            intent=record.intent,
            content_exempt=record.content_exempt,
        )

    def _deliver(self, record: DispatchRecord) -> None:
        full_text: str | None = None
        blank_text: str | None = None
        blanking = self._config.enforce_message_content_intent and record.content_exempt is False
        for session in self._audience(record.guild_id, record.intent):
            if blanking and not session.has_message_content:
                blank_text = blank_text or dumps(blank_content(record.payload))
                session.push(record.event, blank_text)
            else:
                full_text = full_text or dumps(record.payload)
                session.push(record.event, full_text)

    def _audience(self, guild_id: int | None, intent: int) -> Iterable[GatewaySession]:
        return [
            session
            for session in self.sessions.values()
            if session.receives(guild_id) and session.allows(intent)
        ]

    # World live changes (WorldEvents protocol).

    def guild_added(self, guild: Guild) -> None:
        for session in self._audience(guild.id, GUILDS_INTENT):
            session.push("GUILD_CREATE", dumps(self._guild_create(session, guild)))
        self._signal.notify()

    def world_event(self, event: str, payload: JsonDict, *, guild_id: int, intent: int) -> None:
        self.dispatch(event, payload, guild_id=guild_id, intent=intent)

    # ---- test controls ---------------------------------------------------------------------

    def live_connections(self, shard_id: int | None = None) -> list[GatewayConnection]:
        return [
            c
            for c in self.connections.values()
            if c.session is not None and (shard_id is None or c.session.shard_id == shard_id)
        ]

    async def flush(self, bound: float = 5.0) -> None:
        for connection in list(self.connections.values()):
            await connection.flush(bound)

    async def drop(self, code: int, shard_id: int | None = None) -> int:
        """Closes live connections with ``code``; sessions stay resumable. Returns how many."""
        connections = self.live_connections(shard_id)
        for connection in connections:
            await connection.close(code, "Dropped by the emulator.")
        return len(connections)

    async def send_op_to_sessions(
        self, op: int, data: Any, shard_id: int | None, after: Callable[[GatewaySession], None]
    ) -> int:
        connections = self.live_connections(shard_id)
        for connection in connections:
            connection.send_op(op, data)
            if connection.session is not None:
                after(connection.session)
            await connection.flush(5.0)
        return len(connections)

    async def close_all(self) -> None:
        for connection in list(self.connections.values()):
            with contextlib.suppress(Exception):
                await connection.close(1001, "Emulator stopping.")
            await connection.stop()


def _filter_members(guild: Guild, request: JsonDict) -> list[Any]:
    members = list(guild.members.values())
    user_ids = request.get("user_ids")
    if user_ids is not None:
        wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
        return [m for m in members if m.user.id in wanted]
    query = str(request.get("query") or "").lower()
    if query:
        members = [m for m in members if m.user.name.lower().startswith(query)]
    limit = int(request.get("limit") or 0)
    return members[:limit] if limit else members
