"""Gateway sessions (sequence, replay buffer) and connections (ordered writer per websocket)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import zlib
from typing import Any

from aiohttp import web

from bot.testing.discord.models import JsonDict
from bot.testing.discord.snowflake import shard_of

MESSAGE_CONTENT_INTENT = 1 << 15


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclasses.dataclass(frozen=True)
class GatewayLogEntry:
    """One frame the client sent: op, data, on which connection and shard."""

    at: float
    connection_id: int
    shard: tuple[int, int] | None
    op: int | None
    data: Any


@dataclasses.dataclass(eq=False)
class DispatchRecord:
    """One dispatched event; ``content_exempt`` is None for events without message content."""

    index: int
    event: str
    payload: JsonDict
    guild_id: int | None
    intent: int
    content_exempt: bool | None
    at: float


class GatewayConnection:
    """One websocket; frames go out in order through a queue and a writer task."""

    def __init__(self, connection_id: int, ws: web.WebSocketResponse, *, compress: bool) -> None:
        self.id = connection_id
        self.ws = ws
        self.session: GatewaySession | None = None
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._compressor = zlib.compressobj() if compress else None
        self._writer: asyncio.Task[None] | None = None
        self.close_code: int | None = None

    def start(self) -> None:
        self._writer = asyncio.get_running_loop().create_task(self._write_loop())

    def send_text(self, text: str) -> None:
        self.queue.put_nowait(text)

    def send_op(self, op: int, data: Any = None) -> None:
        self.send_text(dumps({"op": op, "d": data}))

    async def _write_loop(self) -> None:
        while True:
            text = await self.queue.get()
            try:
                if text is None:
                    return
                await self._write(text)
            except (ConnectionError, RuntimeError):
                self._drain_queue()
                return
            finally:
                self.queue.task_done()

    async def _write(self, text: str) -> None:
        if self.ws.closed:
            return
        if self._compressor is None:
            await self.ws.send_str(text)
            return
        data = self._compressor.compress(text.encode()) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        await self.ws.send_bytes(data)

    def _drain_queue(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
            self.queue.task_done()

    async def close(self, code: int, message: str = "") -> None:
        """Closes the websocket with a close code, as Discord does."""
        self.close_code = code
        await self.flush(1.0)
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.close(code=code, message=message.encode())

    async def flush(self, bound: float) -> None:
        """Waits (at most ``bound`` s) until every queued frame has been handed to the socket."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.queue.join(), bound)

    async def stop(self) -> None:
        self.queue.put_nowait(None)
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer


@dataclasses.dataclass(eq=False)
class GatewaySession:
    """An identified session: its shard, intents, sequence and the frames kept for RESUME."""

    session_id: str
    token: str
    shard_id: int
    shard_count: int
    intents: int | None
    identify: JsonDict
    buffer_size: int
    seq: int = 0
    replayed: int = 0
    connection: GatewayConnection | None = None
    buffer: collections.deque[tuple[int, str]] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.buffer = collections.deque(maxlen=self.buffer_size)

    @property
    def has_message_content(self) -> bool:
        return self.intents is None or bool(self.intents & MESSAGE_CONTENT_INTENT)

    def allows(self, intent: int) -> bool:
        return not intent or self.intents is None or bool(self.intents & intent)

    def receives(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return self.shard_id == 0
        return shard_of(guild_id, self.shard_count) == self.shard_id

    def push(self, event: str, data_text: str) -> int:
        """Numbers a dispatch, keeps it for RESUME and sends it if connected."""
        self.seq += 1
        frame = f'{{"op":0,"t":"{event}","s":{self.seq},"d":{data_text}}}'
        self.buffer.append((self.seq, frame))
        if self.connection is not None:
            self.connection.send_text(frame)
        return self.seq

    def frames_after(self, seq: int) -> list[str] | None:
        """Frames with sequence > ``seq``, or None if some were already dropped from the buffer."""
        if self.buffer and self.buffer[0][0] > seq + 1:
            return None
        return [frame for frame_seq, frame in self.buffer if frame_seq > seq]
