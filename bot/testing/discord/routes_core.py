"""REST routes for login, application info, gateway, users, DMs, channels and guild members."""

from __future__ import annotations

import datetime
import hashlib

from bot.testing.discord.context import EmulatorContext
from bot.testing.discord.models import Guild, Member
from bot.testing.discord.permissions import (
    ALL_PERMISSIONS,
    Perm,
    base_permissions,
    highest_role_position,
)
from bot.testing.discord.rest import RouteSpec, route
from bot.testing.discord.rest_common import (
    RestError,
    RestRequest,
    RestResponse,
    field_error,
    form_error,
    missing_permissions,
    no_content,
    ok,
    unknown,
)
from bot.testing.discord.world import GUILD_MEMBERS_INTENT

_G = r"(?P<guild_id>\d+)"
_U = r"(?P<user_id>\d+)"
MAX_TIMEOUT = datetime.timedelta(days=28)


class CoreRoutes:
    """Handlers that are not about messages or interactions."""

    def __init__(self, ctx: EmulatorContext) -> None:
        self._ctx = ctx

    def specs(self) -> list[RouteSpec]:
        return [
            route("GET", r"/users/@me", self.me),
            route("GET", r"/users/" + _U, self.user),
            route("GET", r"/oauth2/applications/@me", self.application),
            route("GET", r"/applications/@me", self.application),
            route("GET", r"/gateway", self.gateway),
            route("GET", r"/gateway/bot", self.gateway_bot),
            route("POST", r"/users/@me/channels", self.open_dm),
            route("GET", r"/channels/(?P<channel_id>\d+)", self.channel),
            route("GET", r"/guilds/" + _G, self.guild),
            route("GET", r"/guilds/" + _G + r"/channels", self.guild_channels),
            route("GET", r"/guilds/" + _G + r"/roles", self.guild_roles),
            route("GET", r"/guilds/" + _G + r"/members/" + _U, self.member),
            route("PATCH", r"/guilds/" + _G + r"/members/" + _U, self.edit_member),
            route("DELETE", r"/guilds/" + _G + r"/members/" + _U, self.kick_member),
        ]

    async def me(self, request: RestRequest) -> RestResponse:
        bot = self._ctx.world.bot_user.to_payload()
        return ok({**bot, "verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"})

    async def user(self, request: RestRequest) -> RestResponse:
        found = self._ctx.world.users.get(request.param_int("user_id"))
        if found is None:
            raise unknown("User", 10013)
        return ok(found.to_payload())

    async def application(self, request: RestRequest) -> RestResponse:
        world = self._ctx.world
        return ok(
            {
                "id": str(world.application_id),
                "name": world.bot_user.name,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": hashlib.sha256(str(world.application_id).encode()).hexdigest(),
                "owner": world.owner.to_payload(),
                "team": None,
                "flags": 0,
                "hook": True,
                "redirect_uris": [],
                "rpc_origins": [],
                "tags": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "approximate_guild_count": len(world.guilds),
                "bot": world.bot_user.to_payload(),
                "integration_types_config": {"0": {}},
            }
        )

    async def gateway(self, request: RestRequest) -> RestResponse:
        return ok({"url": self._ctx.hub.gateway_url})

    async def gateway_bot(self, request: RestRequest) -> RestResponse:
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        shards = self._ctx.config.recommended_shards
        return ok(
            {"url": self._ctx.hub.gateway_url, "shards": shards, "session_start_limit": limit}
        )

    async def open_dm(self, request: RestRequest) -> RestResponse:
        recipient = request.body().get("recipient_id")
        user = self._ctx.world.users.get(int(recipient or 0))
        if user is None:
            raise RestError(
                form_error({"recipient_id": field_error("NUMBER_TYPE_COERCE", "Unknown user")})
            )
        return ok(self._ctx.world.dm_channel(user).to_payload())

    async def channel(self, request: RestRequest) -> RestResponse:
        channel = self._ctx.channel(request.param_int("channel_id"))
        self._ctx.require_access(channel)
        return ok(channel.to_payload())

    async def guild(self, request: RestRequest) -> RestResponse:
        payload = self._guild(request).to_payload(members=[])
        for key in ("channels", "threads", "members", "voice_states", "presences", "joined_at"):
            payload.pop(key, None)
        return ok(payload)

    async def guild_channels(self, request: RestRequest) -> RestResponse:
        return ok([channel.to_payload() for channel in self._guild(request).text_channels])

    async def guild_roles(self, request: RestRequest) -> RestResponse:
        return ok([role.to_payload() for role in self._guild(request).roles.values()])

    async def member(self, request: RestRequest) -> RestResponse:
        return ok(self._member(self._guild(request), request).to_payload())

    async def edit_member(self, request: RestRequest) -> RestResponse:
        guild = self._guild(request)
        target = self._member(guild, request)
        body = request.body()
        if "communication_disabled_until" in body:
            self._require_over(guild, target, Perm.MODERATE_MEMBERS)
            target.communication_disabled_until = _timeout_value(
                body["communication_disabled_until"]
            )
        if "nick" in body:
            self._require_over(guild, target, Perm.MANAGE_NICKNAMES)
            target.nick = body["nick"] or None
        if "roles" in body:
            self._require_over(guild, target, Perm.MANAGE_ROLES)
            target.roles = [
                int(role_id) for role_id in body["roles"] if int(role_id) in guild.roles
            ]
        update = {**target.to_payload(), "guild_id": str(guild.id)}
        self._ctx.hub.dispatch(
            "GUILD_MEMBER_UPDATE", update, guild_id=guild.id, intent=GUILD_MEMBERS_INTENT
        )
        self._ctx.signal.notify()
        return ok(target.to_payload())

    async def kick_member(self, request: RestRequest) -> RestResponse:
        guild = self._guild(request)
        target = self._member(guild, request)
        self._require_over(guild, target, Perm.KICK_MEMBERS)
        del guild.members[target.user.id]
        removal = {"guild_id": str(guild.id), "user": target.user.to_payload()}
        self._ctx.hub.dispatch(
            "GUILD_MEMBER_REMOVE", removal, guild_id=guild.id, intent=GUILD_MEMBERS_INTENT
        )
        self._ctx.signal.notify()
        return no_content()

    def _guild(self, request: RestRequest) -> Guild:
        guild = self._ctx.world.guilds.get(request.param_int("guild_id"))
        if guild is None:
            raise unknown("Guild", 10004)
        return guild

    def _member(self, guild: Guild, request: RestRequest) -> Member:
        member = guild.members.get(request.param_int("user_id"))
        if member is None:
            raise unknown("Member", 10007)
        return member

    def _require_over(self, guild: Guild, target: Member, permission: Perm) -> None:
        """The bot needs ``permission`` and a higher top role than a non-owner, non-admin target."""
        me = guild.members[self._ctx.world.bot_user.id]
        if not base_permissions(guild, me) & permission:
            raise missing_permissions()
        if target.user.id == me.user.id:
            return
        target_is_admin = base_permissions(guild, target) == ALL_PERMISSIONS
        if target_is_admin or highest_role_position(guild, target) >= highest_role_position(
            guild, me
        ):
            raise missing_permissions()


def _timeout_value(value: object) -> str | None:
    if value is None:
        return None
    try:
        until = datetime.datetime.fromisoformat(str(value))
    except ValueError:
        raise RestError(
            form_error(
                {
                    "communication_disabled_until": field_error(
                        "DATE_TYPE_CONVERT", "Could not parse date."
                    )
                }
            )
        ) from None
    if until.tzinfo is None:
        until = until.replace(tzinfo=datetime.UTC)
    if until - datetime.datetime.now(tz=datetime.UTC) > MAX_TIMEOUT:
        message = "Invalid communication disabled timestamp: must be at most 28 days in the future"
        raise RestError(
            form_error(
                {"communication_disabled_until": field_error("BASE_TYPE_BAD_TIMESTAMP", message)}
            )
        )
    return until.isoformat()
