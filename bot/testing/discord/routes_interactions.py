"""REST routes for application commands, interaction callbacks and interaction webhooks."""

from __future__ import annotations

from bot.testing.discord.context import EmulatorContext
from bot.testing.discord.rest import RouteSpec, route
from bot.testing.discord.rest_common import RestRequest, RestResponse, ok, unknown

_APP = r"/applications/(?P<application_id>\d+)"
_GUILD_COMMANDS = _APP + r"/guilds/(?P<guild_id>\d+)/commands"
_HOOK = r"/webhooks/(?P<application_id>\d+)/(?P<token>[A-Za-z0-9_.\-]+)"
_HOOK_MESSAGE = _HOOK + r"/messages/(?P<message_id>@original|\d+)"


class InteractionRoutes:
    """Command sync, callbacks (no bot token: authorised by the interaction token), follow-ups."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self._ctx = ctx

    def specs(self) -> list[RouteSpec]:
        interactions = self._ctx.interactions

        async def callback(request: RestRequest) -> RestResponse:
            return interactions.callback(request)

        async def followup(request: RestRequest) -> RestResponse:
            return interactions.followup(request)

        async def get_message(request: RestRequest) -> RestResponse:
            return interactions.get_message(request)

        async def edit_message(request: RestRequest) -> RestResponse:
            return interactions.edit_message(request)

        async def delete_message(request: RestRequest) -> RestResponse:
            return interactions.delete_message(request)

        callback_path = (
            r"/interactions/(?P<interaction_id>\d+)/(?P<token>[A-Za-z0-9_.\-]+)/callback"
        )
        return [
            route("PUT", _APP + r"/commands", self.sync),
            route("PUT", _GUILD_COMMANDS, self.sync),
            route("GET", _APP + r"/commands", self.listed),
            route("GET", _GUILD_COMMANDS, self.listed),
            route("POST", _APP + r"/commands", self.upsert),
            route("POST", _GUILD_COMMANDS, self.upsert),
            route("POST", callback_path, callback, auth="token"),
            route("POST", _HOOK, followup, auth="token"),
            route("GET", _HOOK_MESSAGE, get_message, auth="token"),
            route("PATCH", _HOOK_MESSAGE, edit_message, auth="token"),
            route("DELETE", _HOOK_MESSAGE, delete_message, auth="token"),
        ]

    async def sync(self, request: RestRequest) -> RestResponse:
        guild_id = self._scope(request)
        synced = self._ctx.commands.bulk_overwrite(guild_id, request.json)
        self._ctx.signal.notify()
        return ok(synced)

    async def listed(self, request: RestRequest) -> RestResponse:
        return ok(self._ctx.commands.listed(self._scope(request)))

    async def upsert(self, request: RestRequest) -> RestResponse:
        return ok(self._ctx.commands.upsert(self._scope(request), request.body()), status=201)

    def _scope(self, request: RestRequest) -> int | None:
        if request.param_int("application_id") != self._ctx.world.application_id:
            raise unknown("Application", 10002)
        if "guild_id" not in request.params:
            return None
        guild_id = request.param_int("guild_id")
        if guild_id not in self._ctx.world.guilds:
            raise unknown("Guild", 10004)
        return guild_id
