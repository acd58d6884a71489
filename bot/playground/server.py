"""The playground's web server on loopback: the page, its form actions and live updates.

Routes (``{id}`` is a channel of the playground guild or your DM):

- ``GET /`` → #general; ``GET /channels/{id}``: the page.
- ``GET /channels/{id}/events``: server-sent events (``reset``, ``upsert``, ``remove``,
  ``sidebar``, ``palette``, ``typing``) as the emulator's state changes.
- ``POST /channels/{id}/messages`` (composer), ``/commands`` (slash commands), ``/menu`` (context
  menus), ``/click`` (buttons): each injects into the emulator what Discord would send the bot.
- ``GET /channels/{id}/export``: the stored conversation as JSON.
- ``GET /attachments/{message}/{attachment}``: attachment bytes (only images and audio inline).

Every request needs the playground's key: the link the command prints carries it (``/?key=...``),
the server answers that link with a cookie holding it (HttpOnly, SameSite=Strict) and every other
request, the event stream included, must bring the cookie. Every POST also carries the page's
token; requests for another host name or from another origin are refused, so neither other local
processes nor other web pages can drive the playground.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.store import keys
from bot.testing.discord import Channel, DiscordEmulator, EmulatorTimeout, User
from bot.testing.discord.models import JsonDict
from bot.testing.discord.rest_common import RestError

from .compose import expand_mentions, voice_clip, with_bot_mention
from .forms import (
    done,
    failure,
    float_or_none,
    int_or_none,
    is_file,
    refusal,
    upload_of,
)
from .live import ChannelFeed
from .page import PageInfo, page_html, palette_html, sidebar_html
from .palette import (
    MESSAGE_MENU,
    OptionError,
    Upload,
    available_commands,
    find_leaf,
    menus,
    option_values,
    slash_leaves,
)
from .views import INLINE_AUDIO, INLINE_IMAGES, View
from .world import PlaygroundWorld

Exporter = Callable[[str], Awaitable[JsonDict | None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = MappingProxyType(
    {
        "playground.css": "text/css",
        "playground.js": "text/javascript",
        "favicon.svg": "image/svg+xml",
    }
)
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
KEEPALIVE_S = 15.0
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'none'"
)
FILE_POLICY = "default-src 'none'; sandbox"
NO_KEY = "Open the playground with the link the playground command printed: it carries the key."


class PlaygroundServer:
    """Serves the page for ``world`` in ``emu``; one instance per playground run."""

    def __init__(
        self,
        emu: DiscordEmulator,
        world: PlaygroundWorld,
        info: PageInfo,
        exporter: Exporter,
    ) -> None:
        self._emu = emu
        self._world = world
        self._info = info
        self._exporter = exporter
        self.token = secrets.token_urlsafe(24)
        self.key = secrets.token_urlsafe(32)
        self._cookie = "toolcord_playground"
        self._runner: web.AppRunner | None = None
        self._streams: set[asyncio.Task[Any]] = set()
        self._hosts: set[str] = set()
        self.base_url = ""
        self.url = ""

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0 picks a free port); returns the page's URL."""
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound = runner.addresses[0][1]
        self._hosts = {f"{host}:{bound}", f"localhost:{bound}", f"127.0.0.1:{bound}"}
        self._cookie = f"toolcord_playground_{bound}"
        self.base_url = f"http://{host}:{bound}/"
        self.url = f"{self.base_url}?key={self.key}"
        return self.url

    def link(self, path: str) -> str:
        """An address of ``path`` (no leading slash) that carries the key, like :attr:`url`."""
        return f"{self.base_url}{path}?key={self.key}"

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES, middlewares=[self._guard])
        app.router.add_get("/", self._home)
        app.router.add_get("/channels/{channel}", self._page)
        app.router.add_get("/channels/{channel}/events", self._events)
        app.router.add_get("/channels/{channel}/export", self._export)
        app.router.add_post("/channels/{channel}/messages", self._send)
        app.router.add_post("/channels/{channel}/commands", self._command)
        app.router.add_post("/channels/{channel}/menu", self._menu)
        app.router.add_post("/channels/{channel}/click", self._click)
        app.router.add_get("/attachments/{message}/{attachment}", self._attachment)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/favicon.ico", self._favicon)
        app.on_shutdown.append(self._close_streams)
        return app

    async def _close_streams(self, app: web.Application) -> None:
        for task in list(self._streams):
            task.cancel()

    # ---- guard -----------------------------------------------------------------------------

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self._hosts and request.host not in self._hosts:
            return refusal(request, f"Open the playground at {self.base_url} instead.")
        if not self._has_key(request):
            return refusal(request, NO_KEY)
        if "key" in request.query and request.method == "GET":
            return self._keep_key(request)
        if request.method == "POST":
            problem = await self._post_problem(request)
            if problem:
                return refusal(request, problem)
        response = await handler(request)
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def _has_key(self, request: web.Request) -> bool:
        given = request.query.get("key") or request.cookies.get(self._cookie) or ""
        return hmac.compare_digest(given.encode(), self.key.encode())

    def _keep_key(self, request: web.Request) -> web.StreamResponse:
        """Answer the printed link: the key goes into a cookie and out of the address bar."""
        rest = [(name, value) for name, value in request.query.items() if name != "key"]
        target = request.path + (f"?{urllib.parse.urlencode(rest)}" if rest else "")
        response = web.Response(status=303, headers={"Location": target, **_NO_STORE})
        response.set_cookie(self._cookie, self.key, path="/", httponly=True, samesite="Strict")
        return response

    async def _post_problem(self, request: web.Request) -> str | None:
        origin = request.headers.get("Origin")
        if origin and urllib.parse.urlsplit(origin).netloc not in self._hosts:
            return "Requests from other web pages are refused."
        form = await request.post()
        token = request.headers.get("X-Playground-Token") or str(form.get("token") or "")
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return "The page is out of date: reload it and try again."
        return None

    # ---- pages -----------------------------------------------------------------------------

    async def _home(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"/channels/{self._world.general.id}")

    async def _page(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        view, commands = self._view(channel)
        body = page_html(view, channel, slash_leaves(commands), self._info)
        return web.Response(text=body, content_type="text/html", headers=_NO_STORE)

    def _view(self, channel: Channel) -> tuple[View, list[JsonDict]]:
        commands = available_commands(self._emu, self._world, channel)
        view = View(self._emu, self._world, self.token)
        _set_menus(view, commands)
        return view, commands

    def _channel(self, request: web.Request) -> Channel:
        try:
            channel = self._emu.world.channels.get(int(request.match_info["channel"]))
        except ValueError:
            channel = None
        if channel is None or not self._world.owns(channel):
            raise web.HTTPNotFound(text="No such channel in the playground.")
        return channel

    async def _favicon(self, request: web.Request) -> web.StreamResponse:
        """Browsers ask for /favicon.ico whatever the page says: the same icon, not a 404."""
        raise web.HTTPFound("/static/favicon.svg")

    async def _static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in STATIC_TYPES:
            raise web.HTTPNotFound()
        body = (STATIC_DIR / name).read_bytes()
        return web.Response(body=body, content_type=STATIC_TYPES[name], headers=_NO_STORE)

    # ---- live updates ----------------------------------------------------------------------

    async def _events(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        view, _ = self._view(channel)
        feed = ChannelFeed(
            view, channel, [self._sidebar(view, channel), self._palette(view, channel)]
        )
        response = web.StreamResponse(headers=_SSE_HEADERS)
        await response.prepare(request)
        task = asyncio.current_task()
        if task is not None:
            self._streams.add(task)
        try:
            await _write(response, feed.reset())
            while True:
                try:
                    events = await self._emu.wait_until(feed.poll, timeout=KEEPALIVE_S)
                except EmulatorTimeout:
                    await response.write(b": keepalive\n\n")
                    continue
                await _write(response, events)
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            if task is not None:
                self._streams.discard(task)
        return response

    def _sidebar(self, view: View, channel: Channel) -> Callable[[], Any]:
        def extra() -> tuple[str, object, Callable[[], str]]:
            guild = self._world.guild
            signature = tuple((c.id, c.name) for c in guild.channels.values())
            return "sidebar", signature, lambda: sidebar_html(view, channel, self._info)

        return extra

    def _palette(self, view: View, channel: Channel) -> Callable[[], Any]:
        def extra() -> tuple[str, object, Callable[[], str]]:
            commands = available_commands(self._emu, self._world, channel)
            signature = tuple((c.get("id"), c.get("version")) for c in commands)
            _set_menus(view, commands)
            leaves = slash_leaves(commands)
            return "palette", signature, lambda: palette_html(view, channel, leaves)

        return extra

    # ---- actions ---------------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        form = await request.post()
        reply_to = int_or_none(form.get("reply_to"))
        if reply_to is not None and self._emu.message(reply_to) is None:
            return failure(request, channel, "The message you reply to is gone; reply again.")
        try:
            sent = await self._send_composed(channel, form)
        except (LookupError, ValueError, RestError) as exc:
            return failure(request, channel, f"The message was refused: {exc}")
        if not sent:
            return failure(request, channel, "Type a message or attach a file first.")
        return done(request, channel, {"sent": sent})

    async def _send_composed(self, channel: Channel, form: MultiDictProxy[Any]) -> list[str]:
        """Inject the composer's message (text and files) and voice message; their ids."""
        world = self._world
        reference = int_or_none(form.get("reply_to"))
        text = expand_mentions(str(form.get("content") or "").strip(), world, channel)
        files = [upload_of(f) for f in form.getall("files", []) if is_file(f)]
        attachments = [self._emu.attachment(f.filename, f.data, f.content_type) for f in files]
        sent: list[str] = []
        pinged = self._reply_ping(reference)
        if text or attachments:
            if form.get("mention_bot") and not channel.is_dm:
                text = with_bot_mention(text, world)
            payload = await self._emu.inject_message(
                channel,
                world.you,
                text,
                attachments=attachments,
                reference=reference,
                mentions=pinged,
            )
            sent.append(str(payload["id"]))
        voice = form.get("voice")
        if is_file(voice):
            sent.append(await self._send_voice(channel, form, upload_of(voice), reference))
        return sent

    def _reply_ping(self, reference: int | None) -> list[User]:
        """Who a reply pings: its author, as Discord's client does by default."""
        referenced = self._emu.message(reference) if reference is not None else None
        if referenced is None or referenced.author.id == self._world.you.id:
            return []
        return [referenced.author]

    async def _send_voice(
        self, channel: Channel, form: MultiDictProxy[Any], upload: Upload, reference: int | None
    ) -> str:
        duration = float_or_none(form.get("duration"))
        clip = voice_clip(upload.data, upload.filename, upload.content_type, duration)
        attachment = self._emu.attachment(
            clip.filename,
            clip.data,
            clip.content_type,
            duration_secs=clip.duration_s,
            waveform=clip.waveform,
        )
        payload = await self._emu.inject_message(
            channel,
            self._world.you,
            "",
            attachments=[attachment],
            flags=8192,
            reference=reference,
            mentions=self._reply_ping(reference),
        )
        return str(payload["id"])

    async def _command(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        form = await request.post()
        commands = available_commands(self._emu, self._world, channel)
        uploads = {key: upload_of(value) for key, value in form.items() if is_file(value)}
        fields = {key: str(value) for key, value in form.items() if isinstance(value, str)}
        try:
            leaf = find_leaf(slash_leaves(commands), fields.get("command", ""))
            options = option_values(leaf, fields, uploads, self._emu, self._world)
            handle = await self._emu.inject_interaction(
                leaf.name, user=self._world.you, channel=channel, options=options
            )
        except (OptionError, LookupError, ValueError) as exc:
            return failure(request, channel, str(exc))
        return done(request, channel, {"interaction": str(handle.id)})

    async def _menu(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        form = await request.post()
        message = self._emu.message(int_or_none(form.get("message_id")) or 0)
        kind = int_or_none(form.get("kind")) or MESSAGE_MENU
        if message is None or message.channel_id != channel.id:
            return failure(request, channel, "That message is gone; reload the page.")
        try:
            handle = await self._emu.inject_interaction(
                str(form.get("name") or ""),
                user=self._world.you,
                channel=channel,
                command_type=kind,
                target_message=message if kind == MESSAGE_MENU else None,
                target_user=message.author if kind != MESSAGE_MENU else None,
            )
        except (LookupError, ValueError) as exc:
            return failure(request, channel, str(exc))
        return done(request, channel, {"interaction": str(handle.id)})

    async def _click(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        form = await request.post()
        message_id = int_or_none(form.get("message_id")) or 0
        try:
            handle = self._emu.click(
                message_id, user=self._world.you, custom_id=str(form.get("custom_id") or "")
            )
        except (LookupError, KeyError, ValueError) as exc:
            return failure(request, channel, str(exc))
        return done(request, channel, {"interaction": str(handle.id)})

    # ---- reading ---------------------------------------------------------------------------

    async def _export(self, request: web.Request) -> web.StreamResponse:
        channel = self._channel(request)
        for key in self._conversation_keys(channel):
            exported = await self._exporter(key)
            if exported:
                body = json.dumps(exported, indent=2, default=str)
                disposition = f'attachment; filename="conversation-{channel.id}.json"'
                headers = {"Content-Disposition": disposition, **_NO_STORE}
                return web.Response(text=body, content_type="application/json", headers=headers)
        return web.json_response(
            {"error": "No conversation is stored for this channel yet: talk to the bot first."},
            status=404,
        )

    def _conversation_keys(self, channel: Channel) -> list[str]:
        """The conversations a channel may hold for you: shared first, then your own."""
        where = keys.Where(
            user_id=self._world.you.id,
            guild_id=None if channel.is_dm else self._world.guild.id,
            channel_id=channel.id,
            thread_id=channel.id if channel.is_thread else None,
        )
        if channel.is_dm or channel.is_thread:
            return [keys.conversation_key(where)]
        return [keys.conversation_key(where, "shared"), keys.conversation_key(where, "own")]

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        message = self._emu.message(int_or_none(request.match_info["message"]) or 0)
        wanted = request.match_info["attachment"]
        channel = self._emu.world.channels.get(message.channel_id) if message else None
        if message is None or channel is None or not self._world.owns(channel):
            raise web.HTTPNotFound()
        found = next((a for a in message.attachments if str(a.id) == wanted), None)
        if found is None:
            raise web.HTTPNotFound()
        kind = (found.content_type or "").split(";")[0].strip().lower()
        inline = kind in INLINE_IMAGES or kind in INLINE_AUDIO
        quoted = urllib.parse.quote(found.filename)
        headers = {
            "Content-Disposition": f"{'inline' if inline else 'attachment'}; "
            f"filename*=UTF-8''{quoted}",
            "Content-Security-Policy": FILE_POLICY,
        }
        content_type = kind if inline else "application/octet-stream"
        return web.Response(body=found.data, content_type=content_type, headers=headers)


_NO_STORE = MappingProxyType({"Cache-Control": "no-store"})
_SSE_HEADERS = MappingProxyType(
    {"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
)


def _set_menus(view: View, commands: list[JsonDict]) -> None:
    view.message_menus = menus(commands, MESSAGE_MENU)
    view.user_menus = menus(commands, 2)


async def _write(response: web.StreamResponse, events: list[Any]) -> None:
    for event in events:
        await response.write(event.encode())
