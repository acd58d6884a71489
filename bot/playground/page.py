"""The page around the messages: sidebar, channel header, composer and command palette."""

from __future__ import annotations

import html
from dataclasses import dataclass

from bot.testing.discord import Channel

from .palette import (
    ATTACHMENT,
    BOOLEAN,
    CHANNEL,
    FIELD_PREFIX,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    USER,
    Leaf,
)
from .views import View, display_name, messages_html
from .world import channel_title, sidebar_channels

STYLESHEET = "/static/playground.css"
SCRIPT = "/static/playground.js"
ICON = "/static/favicon.svg"


@dataclass(frozen=True)
class PageInfo:
    """What the page says about the run: the model, and whether it is the offline demo."""

    model: str
    offline: bool


def page_html(view: View, channel: Channel, leaves: list[Leaf], info: PageInfo) -> str:
    """The whole page for one channel."""
    title = html.escape(channel_title(view.world, channel))
    messages = messages_html(view, view.emu.messages(channel))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · toolcord playground</title>
<link rel="icon" href="{ICON}" type="image/svg+xml">
<link rel="stylesheet" href="{STYLESHEET}"><script src="{SCRIPT}" defer></script></head>
<body data-channel="{channel.id}" data-token="{view.token}">
<nav class="sidebar" id="sidebar">{sidebar_html(view, channel, info)}</nav>
<main>
<header class="channel-head"><h1>{title}</h1>
<a class="export" href="/channels/{channel.id}/export">Export conversation (JSON)</a></header>
<section id="messages" class="messages" aria-live="polite">{messages}</section>
<div id="typing" class="typing" hidden></div>
<div id="toast" class="toast" role="alert" hidden></div>
{composer_html(view, channel)}
<details class="palette" id="palette"><summary>/ Commands</summary>
<div id="palette-body">{palette_html(view, channel, leaves)}</div></details>
</main></body></html>"""


def sidebar_html(view: View, current: Channel, info: PageInfo) -> str:
    world = view.world
    items = []
    for channel, threads in sidebar_channels(world):
        nested = "".join(f"<li>{_channel_link(view, thread, current)}</li>" for thread in threads)
        thread_list = f'<ul class="threads">{nested}</ul>' if nested else ""
        items.append(f"<li>{_channel_link(view, channel, current)}{thread_list}</li>")
    mode = "offline demo model" if info.offline else f"model {html.escape(info.model)}"
    return (
        f'<div class="guild">{html.escape(world.guild.name)}</div>'
        f'<h2>Text channels</h2><ul class="channels">{"".join(items)}</ul>'
        f'<h2>Direct messages</h2><ul class="channels">'
        f"<li>{_channel_link(view, world.dm, current)}</li></ul>"
        f'<div class="whoami">You are <b>{html.escape(display_name(world.you))}</b>'
        f'<span class="mode">toolcord playground · {mode}</span></div>'
    )


def _channel_link(view: View, channel: Channel, current: Channel) -> str:
    active = ' class="active" aria-current="page"' if channel.id == current.id else ""
    label = html.escape(channel_title(view.world, channel))
    return f'<a href="/channels/{channel.id}"{active}>{label}</a>'


def composer_html(view: View, channel: Channel) -> str:
    placeholder = html.escape(f"Message {channel_title(view.world, channel)}")
    mention = (
        ""
        if channel.is_dm
        else f'<label class="mention-toggle"><input type="checkbox" name="mention_bot" '
        f'value="1" checked> mention @{html.escape(view.world.bot.name)}</label>'
    )
    token = f'<input type="hidden" name="token" value="{view.token}">'
    return f"""<form id="composer" class="composer pg-form" method="post"
 action="/channels/{channel.id}/messages" enctype="multipart/form-data">{token}
<div id="replying" class="replying" hidden>Replying to <b></b>
<button type="button" id="cancel-reply" aria-label="Cancel reply">✕</button></div>
<input type="hidden" name="reply_to" value="">
<textarea name="content" rows="2" placeholder="{placeholder}" aria-label="Message"></textarea>
<div class="composer-row">{mention}
<label class="attach">Attach files<input type="file" name="files" multiple></label>
<button type="button" id="record" class="record">● Record voice</button>
<label class="attach">Voice file<input type="file" name="voice" accept="audio/*"></label>
<input type="hidden" name="duration" value="">
<button type="submit" class="send">Send</button></div></form>"""


def palette_html(view: View, channel: Channel, leaves: list[Leaf]) -> str:
    if not leaves:
        return '<p class="empty">The bot has not synced any slash commands (yet).</p>'
    return "".join(_command_form(view, channel, leaf) for leaf in leaves)


def _command_form(view: View, channel: Channel, leaf: Leaf) -> str:
    name = html.escape(leaf.name)
    fields = "".join(_option_field(view, option) for option in leaf.options)
    return (
        f'<details class="command" data-command="{name}"><summary><b>/{name}</b> '
        f"<span>{html.escape(leaf.description)}</span></summary>"
        f'<form class="pg-form" method="post" action="/channels/{channel.id}/commands" '
        f'enctype="multipart/form-data"><input type="hidden" name="token" value="{view.token}">'
        f'<input type="hidden" name="command" value="{name}">{fields}'
        f'<button type="submit" class="run">Run /{name}</button></form></details>'
    )


def _option_field(view: View, option: dict[str, object]) -> str:
    name = html.escape(str(option.get("name")))
    kind = int(str(option.get("type") or 3))
    required = bool(option.get("required"))
    label = f"{name}{' *' if required else ''}"
    hint = html.escape(str(option.get("description") or ""))
    control = _control(view, option, f"{FIELD_PREFIX}{name}", kind, required)
    return (
        f'<label class="option"><span class="option-name">{label}</span>{control}'
        f"<small>{hint}</small></label>"
    )


def _control(view: View, option: dict[str, object], field: str, kind: int, required: bool) -> str:
    req = " required" if required else ""
    choices = option.get("choices")
    if isinstance(choices, list) and choices:
        pairs = [(str(c.get("value")), str(c.get("name"))) for c in choices if isinstance(c, dict)]
        return _select(field, pairs, required)
    if kind == ATTACHMENT:
        return f'<input type="file" name="{field}"{req}>'
    if kind == BOOLEAN:
        return _select(field, [("true", "true"), ("false", "false")], required)
    if kind in (USER, MENTIONABLE):
        users = view.world.guild.members.values()
        return _select(field, [(str(m.user.id), display_name(m.user)) for m in users], required)
    if kind == CHANNEL:
        channels = [view.world.guild.channels[c] for c in view.world.guild.channels]
        return _select(field, [(str(c.id), f"#{c.name}") for c in channels], required)
    if kind == ROLE:
        roles = view.world.guild.roles.values()
        return _select(field, [(str(r.id), r.name) for r in roles], required)
    if kind in (INTEGER, NUMBER):
        step = "1" if kind == INTEGER else "any"
        bounds = "".join(
            f' {attr}="{html.escape(str(option[key]))}"'
            for key, attr in (("min_value", "min"), ("max_value", "max"))
            if key in option
        )
        return f'<input type="number" name="{field}" step="{step}"{bounds}{req}>'
    limit = f' maxlength="{int(str(option["max_length"]))}"' if "max_length" in option else ""
    return f'<input type="text" name="{field}"{limit}{req}>'


def _select(field: str, pairs: list[tuple[str, str]], required: bool) -> str:
    blank = "" if required else '<option value="">(none)</option>'
    options = "".join(
        f'<option value="{html.escape(value)}">{html.escape(text)}</option>'
        for value, text in pairs
    )
    return f'<select name="{field}"{" required" if required else ""}>{blank}{options}</select>'
