"""Live updates for one browser tab: what changed in its channel since it last looked.

The emulator wakes waiters on every change of its state; :meth:`ChannelFeed.poll` compares a
cheap signature of each message (edits, flags, attachments, components) with what the tab has,
and renders only messages that changed. The server sends the result as server-sent events.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.testing.discord import Channel, StoredMessage

from .views import View, message_html, messages_html, visible

TYPING_SHOWN_S = 10.0
MessageSignature = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class Event:
    """One server-sent event."""

    name: str
    data: dict[str, object]

    def encode(self) -> bytes:
        return f"event: {self.name}\ndata: {json.dumps(self.data)}\n\n".encode()


def _signature(message: StoredMessage) -> MessageSignature:
    return (
        len(message.edits),
        message.flags,
        len(message.attachments),
        len(message.components),
        len(message.content),
    )


class ChannelFeed:
    """Tracks what one tab shows of ``channel`` and reports what changed.

    Args:
        view: how to render messages (its menus may change when the bot syncs commands).
        channel: the tab's channel.
        extras: functions returning ``(event name, signature, html)`` for the other live parts
            of the page (sidebar, command palette); an event is sent when the signature changes.
    """

    def __init__(
        self,
        view: View,
        channel: Channel,
        extras: list[Callable[[], tuple[str, object, Callable[[], str]]]],
    ) -> None:
        self._view = view
        self._channel = channel
        self._extras = extras
        self._sent: dict[int, MessageSignature] = {}
        self._extra_signatures: dict[str, object] = {}
        self._typing_index = view.emu.mark().request_index - 1
        self._typing_path = re.compile(rf"/channels/{channel.id}/typing")

    def reset(self) -> list[Event]:
        """Everything, as the tab must show it now (on connect and reconnect)."""
        messages = self._messages()
        self._sent = {m.id: _signature(m) for m in messages}
        events = [Event("reset", {"html": messages_html(self._view, messages)})]
        for extra in self._extras:
            name, signature, render = extra()
            self._extra_signatures[name] = signature
            events.append(Event(name, {"html": render()}))
        return events

    def poll(self) -> list[Event] | None:
        """The events since the last call, or None when nothing the tab shows changed."""
        events = self._extra_events()
        if any(event.name == "palette" for event in events):
            return [*events, *self.reset()]
        events += self._message_events()
        events += self._typing_events()
        return events or None

    def _messages(self) -> list[StoredMessage]:
        return [m for m in self._view.emu.messages(self._channel) if visible(self._view, m)]

    def _message_events(self) -> list[Event]:
        messages = self._messages()
        events: list[Event] = []
        current: dict[int, MessageSignature] = {}
        for message in messages:
            signature = _signature(message)
            current[message.id] = signature
            if self._sent.get(message.id) != signature:
                html = message_html(self._view, message)
                events.append(Event("upsert", {"id": str(message.id), "html": html}))
        for gone in self._sent.keys() - current.keys():
            events.append(Event("remove", {"id": str(gone)}))
        self._sent = current
        return events

    def _extra_events(self) -> list[Event]:
        events = []
        for extra in self._extras:
            name, signature, render = extra()
            if self._extra_signatures.get(name) != signature:
                self._extra_signatures[name] = signature
                events.append(Event(name, {"html": render()}))
        return events

    def _typing_events(self) -> list[Event]:
        """A "typing" event when the bot started typing in the channel since the last poll."""
        if self._view.emu.mark().request_index - 1 <= self._typing_index:
            return []
        requests = self._view.emu.requests
        typed = False
        for record in reversed(requests):
            if record.index <= self._typing_index:
                break
            typed = typed or self._is_typing(record.method, record.path)
        self._typing_index = max(self._typing_index, requests[-1].index if requests else -1)
        if not typed:
            return []
        text = f"{self._view.world.bot.name} is typing…"
        return [Event("typing", {"text": text, "seconds": TYPING_SHOWN_S})]

    def _is_typing(self, method: str, path: str) -> bool:
        return method == "POST" and self._typing_path.fullmatch(path) is not None
