"""Server-rendered HTML of messages: author, reply line, markdown, attachments, buttons, menus.

Every value from the emulator (names, content, filenames) goes through ``html.escape`` or the
markdown renderer; nothing here writes raw user or model text into the page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.testing.discord import DiscordEmulator, StoredAttachment, StoredMessage, User
from bot.testing.discord.models import JsonDict
from bot.testing.discord.snowflake import snowflake_time

from .render import Names, render_inline, render_markdown
from .world import PlaygroundWorld

EPHEMERAL, LOADING = 64, 128
INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
INLINE_AUDIO = frozenset({"audio/ogg", "audio/webm", "audio/mpeg", "audio/wav", "audio/mp4"})
BUTTON_STYLES = MappingProxyType(
    {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "link"}
)
SNIPPET_CHARS = 80


@dataclass
class View:
    """What rendering needs: the emulator, the playground's world, the page's form token and
    the context menus the bot synced (message menus and user menus)."""

    emu: DiscordEmulator
    world: PlaygroundWorld
    token: str
    message_menus: list[str] = field(default_factory=list)
    user_menus: list[str] = field(default_factory=list)

    def names(self) -> Names:
        return Names(user=self._user_name, role=self._role_name, channel=self._channel_name)

    def _user_name(self, user_id: int) -> str | None:
        user = self.emu.world.users.get(user_id)
        return display_name(user) if user is not None else None

    def _role_name(self, role_id: int) -> str | None:
        role = self.world.guild.roles.get(role_id)
        return role.name if role is not None else None

    def _channel_name(self, channel_id: int) -> str | None:
        channel = self.emu.world.channels.get(channel_id)
        return channel.name if channel is not None and channel.name else None


def display_name(user: User) -> str:
    return user.global_name or user.name


def visible(view: View, message: StoredMessage) -> bool:
    """Ephemeral answers show only to the user who ran the command (you, at this page)."""
    if not message.ephemeral:
        return True
    metadata = message.interaction_metadata or {}
    return str((metadata.get("user") or {}).get("id")) == str(view.world.you.id)


def message_html(view: View, message: StoredMessage) -> str:
    """One message as an ``<article>``; ``data-edits`` counts the edits seen so far."""
    author = message.author
    classes = ["msg"]
    if author.bot:
        classes.append("from-bot")
    if message.ephemeral:
        classes.append("ephemeral")
    parts = [
        _context_line(view, message),
        _header(author, message),
        _body(view, message),
        _attachments(message),
        _embeds(view, message.embeds),
        _components(view, message),
        _actions(view, message),
    ]
    return (
        f'<article class="{" ".join(classes)}" id="m-{message.id}" data-id="{message.id}" '
        f'data-author="{html.escape(author.name)}" data-edits="{len(message.edits)}">'
        f"{''.join(parts)}</article>"
    )


def messages_html(view: View, messages: list[StoredMessage]) -> str:
    shown = [message_html(view, m) for m in messages if visible(view, m)]
    if not shown:
        return '<p class="empty">No messages yet. Say hello!</p>'
    return "".join(shown)


def _context_line(view: View, message: StoredMessage) -> str:
    if message.interaction_metadata:
        user = (message.interaction_metadata.get("user") or {}).get("username", "someone")
        name = message.interaction_metadata.get("name", "command")
        used = f"/{name}" if message.interaction_metadata.get("command_type", 1) == 1 else name
        return (
            f'<div class="msg-context">⤷ <b>{html.escape(str(user))}</b> used '
            f'<span class="cmd">{html.escape(str(used))}</span></div>'
        )
    referenced_id = message.referenced_message_id
    if referenced_id is None:
        return ""
    referenced = view.emu.message(referenced_id)
    if referenced is None:
        return '<div class="msg-context">⤷ <i>Original message was deleted</i></div>'
    snippet = referenced.content.replace("\n", " ")[:SNIPPET_CHARS] or "(attachment)"
    return (
        f'<div class="msg-context" data-ref="{referenced.id}">⤷ '
        f"<b>@{html.escape(display_name(referenced.author))}</b> "
        f"{render_inline(snippet, view.names())}</div>"
    )


def _header(author: User, message: StoredMessage) -> str:
    tag = '<span class="tag">APP</span>' if author.bot else ""
    moment = snowflake_time(message.id)
    edited = '<span class="edited">(edited)</span>' if message.edited_timestamp else ""
    return (
        f'<header><span class="author">{html.escape(display_name(author))}</span>{tag}'
        f'<time datetime="{moment.isoformat()}">{moment:%H:%M} UTC</time>{edited}</header>'
    )


def _body(view: View, message: StoredMessage) -> str:
    if message.flags & LOADING and not message.content:
        name = html.escape(display_name(message.author))
        return f'<div class="content thinking">{name} is thinking…</div>'
    if message.is_voice_message:
        return ""
    return f'<div class="content md">{render_markdown(message.content, view.names())}</div>'


def attachment_url(message: StoredMessage, attachment: StoredAttachment) -> str:
    return f"/attachments/{message.id}/{attachment.id}"


def _attachments(message: StoredMessage) -> str:
    if not message.attachments:
        return ""
    items = [_attachment(message, a) for a in message.attachments]
    return f'<div class="attachments">{"".join(items)}</div>'


def _attachment(message: StoredMessage, attachment: StoredAttachment) -> str:
    url = attachment_url(message, attachment)
    name = html.escape(attachment.filename)
    kind = (attachment.content_type or "").split(";")[0].strip().lower()
    if kind in INLINE_IMAGES:
        return f'<figure class="image"><img src="{url}" alt="{name}" loading="lazy"></figure>'
    if kind in INLINE_AUDIO:
        label = "Voice message" if message.is_voice_message else f"Audio: {name}"
        seconds = f" · {attachment.duration_secs:.1f} s" if attachment.duration_secs else ""
        return (
            f'<div class="audio"><span>{label}{seconds}</span>'
            f'<audio controls preload="none" src="{url}"></audio></div>'
        )
    return f'<a class="file" href="{url}" download="{name}">{name} ({_size(attachment.size)})</a>'


def _size(size: int) -> str:
    return f"{size} B" if size < 1024 else f"{size / 1024:.1f} KiB"


def _embeds(view: View, embeds: list[JsonDict]) -> str:
    rendered = []
    for embed in embeds:
        title = html.escape(str(embed.get("title") or ""))
        description = render_markdown(str(embed.get("description") or ""), view.names())
        fields = "".join(
            f'<div class="field"><b>{html.escape(str(f.get("name", "")))}</b>'
            f"{render_markdown(str(f.get('value', '')), view.names())}</div>"
            for f in embed.get("fields") or []
            if isinstance(f, dict)
        )
        rendered.append(
            f'<div class="embed"><div class="embed-title">{title}</div>{description}{fields}</div>'
        )
    return "".join(rendered)


def _components(view: View, message: StoredMessage) -> str:
    buttons = []
    for row in message.components:
        children = row.get("components") if row.get("type") == 1 else [row]
        for component in children or []:
            if isinstance(component, dict) and component.get("type") == 2:
                buttons.append(_button(component))
    if not buttons:
        return ""
    return (
        f'<form class="components pg-form" method="post" action="/channels/'
        f'{message.channel_id}/click">{_token(view)}'
        f'<input type="hidden" name="message_id" value="{message.id}">{"".join(buttons)}</form>'
    )


def _button(component: JsonDict) -> str:
    label = html.escape(str(component.get("label") or component.get("emoji", {}).get("name", "")))
    style = BUTTON_STYLES.get(int(component.get("style") or 2), "secondary")
    if style == "link" or not component.get("custom_id"):
        return f'<span class="button {style}" title="links are not opened here">{label}</span>'
    disabled = " disabled" if component.get("disabled") else ""
    custom_id = html.escape(str(component["custom_id"]))
    return (
        f'<button class="button {style}" name="custom_id" value="{custom_id}"{disabled}>'
        f"{label}</button>"
    )


def _actions(view: View, message: StoredMessage) -> str:
    if message.ephemeral:
        return '<div class="note">Only you can see this message.</div>'
    reply = (
        f'<button type="button" class="reply" data-reply="{message.id}" '
        f'data-reply-name="{html.escape(display_name(message.author))}">Reply</button>'
    )
    menu_forms = [_menu_form(view, message, name, 3) for name in view.message_menus]
    if message.author.id != view.world.you.id:
        menu_forms += [_menu_form(view, message, name, 2) for name in view.user_menus]
    apps = (
        f'<details class="apps"><summary>Apps</summary>{"".join(menu_forms)}</details>'
        if menu_forms
        else ""
    )
    return f'<div class="actions">{reply}{apps}</div>'


def _menu_form(view: View, message: StoredMessage, name: str, kind: int) -> str:
    target = "message" if kind == 3 else "user"
    return (
        f'<form class="pg-form" method="post" action="/channels/{message.channel_id}/menu">'
        f'{_token(view)}<input type="hidden" name="message_id" value="{message.id}">'
        f'<input type="hidden" name="kind" value="{kind}">'
        f'<button name="name" value="{html.escape(name)}" data-target="{target}">'
        f"{html.escape(name)}</button></form>"
    )


def _token(view: View) -> str:
    return f'<input type="hidden" name="token" value="{view.token}">'
