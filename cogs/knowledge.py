"""``/knowledge add|list|remove`` (Manage Server) and ``/memory show|forget`` (your own).

Thin: reading a source is ``bot.knowledge.intake``, storing and searching is
``bot.knowledge.service.KnowledgeService`` (``bot.services.knowledge``).
Permissions are checked here, on the bot's side: Discord's ``default_member_permissions`` only
hides the commands. Memory answers are ephemeral: nobody sees another user's memory.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ToolcordBot
from bot.discord_safety import NO_MENTIONS
from bot.errors import LimitError, ModelError
from bot.i18n import locale_of
from bot.knowledge.auto_offer import set_auto_offer
from bot.knowledge.intake import (
    ReadSource,
    from_file,
    from_message,
    from_url,
    parse_message_link,
)
from bot.knowledge.models import DM_SCOPE
from bot.knowledge.service import Caller, KnowledgeService
from bot.knowledge.sources import SourceError
from bot.policy.permissions import MANAGE_GUILD, invoker_from

log = logging.getLogger("toolcord.knowledge")
MAX_LEN = 2000


class Knowledge(commands.Cog):
    """The knowledge base and memory commands."""

    knowledge = app_commands.Group(
        name="knowledge",
        description="This server's knowledge base (Manage Server)",
        allowed_contexts=app_commands.AppCommandContext(guild=True),
        allowed_installs=app_commands.AppInstallationType(guild=True),
        default_permissions=discord.Permissions(manage_guild=True),
    )
    memory = app_commands.Group(
        name="memory",
        description="What the bot remembers about you",
        allowed_contexts=app_commands.AppCommandContext(
            guild=True, dm_channel=True, private_channel=True
        ),
        allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
    )

    def __init__(self, bot: ToolcordBot) -> None:
        self.bot = bot

    @property
    def service(self) -> KnowledgeService:
        return self.bot.services.knowledge

    def _t(self, interaction: discord.Interaction, key: str, **values: Any) -> str:
        """``key`` from the catalogues in the invoker's language."""
        return self.bot.catalogue.text(key, locale_of(interaction), **values)

    def _model_error(self, interaction: discord.Interaction, error: ModelError) -> str:
        key = f"failure.{error.kind}"
        if not self.bot.catalogue.has(key, "en"):
            return error.user_message
        return self._t(interaction, key)

    async def _manager(self, interaction: discord.Interaction) -> int | None:
        """The guild id when the invoker may manage its knowledge base (else says why)."""
        invoker = invoker_from(interaction, is_owner=await self.bot.is_owner(interaction.user))
        if invoker.guild_id is None or not invoker.guild_install:
            await _say(interaction, self._t(interaction, "knowledge.not_in_server"))
            return None
        if not invoker.has(MANAGE_GUILD):
            await _say(interaction, self._t(interaction, "knowledge.need_manage"))
            return None
        return invoker.guild_id

    @knowledge.command(name="add")
    @app_commands.describe(
        file="A text, Markdown or PDF file",
        url="A web page or file to fetch",
        message_link="A link to a message in this server",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment | None = None,
        url: str | None = None,
        message_link: str | None = None,
    ) -> None:
        """Add a file, a web page or a message to this server's knowledge base."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = await self._manager(interaction)
        if guild_id is None:
            return
        if sum(given is not None for given in (file, url, message_link)) != 1:
            await _say(interaction, self._t(interaction, "knowledge.one_source"))
            return
        try:
            source = await self._read(interaction, guild_id, file, url, message_link)
            caller = Caller(interaction.user.id, guild_id)
            added = await self.service.add_source(
                caller, guild_id, title=source.title, kind=source.kind, origin=source.origin,
                chunks=source.chunks,
            )  # fmt: skip
        except (SourceError, LimitError) as error:
            await _say(interaction, str(error))
            return
        except ModelError as error:
            log.warning("knowledge add failed: %s", error)
            await _say(interaction, self._model_error(interaction, error))
            return
        added_text = self._t(
            interaction, "knowledge.added", title=added.title, id=added.id,
            chunks=added.chunk_count,
        )  # fmt: skip
        await _say(interaction, added_text)

    async def _read(
        self,
        interaction: discord.Interaction,
        guild_id: int,
        file: discord.Attachment | None,
        url: str | None,
        message_link: str | None,
    ) -> ReadSource:
        settings = self.service.settings
        if file is not None:
            if file.size > settings.max_source_bytes:
                raise SourceError(
                    self._t(
                        interaction,
                        "knowledge.file_too_large",
                        name=file.filename,
                        size=file.size,
                        limit=settings.max_source_bytes,
                    )
                )
            data = await file.read()
            return from_file(file.filename, file.content_type, data, settings.chunk_chars)
        if url is not None:
            return await from_url(url, settings.max_source_bytes, settings.chunk_chars)
        assert message_link is not None
        return await self._message(interaction, guild_id, message_link)

    async def _message(
        self, interaction: discord.Interaction, guild_id: int, link: str
    ) -> ReadSource:
        ids = parse_message_link(link)
        if ids is None or ids.guild_id != guild_id:
            raise SourceError(self._t(interaction, "knowledge.link_elsewhere"))
        try:
            channel = self.bot.get_channel(ids.channel_id) or await self.bot.fetch_channel(
                ids.channel_id
            )
            if not isinstance(channel, discord.abc.Messageable):
                raise SourceError(self._t(interaction, "knowledge.not_text_channel"))
            message = await channel.fetch_message(ids.message_id)
        except (discord.NotFound, discord.Forbidden) as error:
            raise SourceError(self._t(interaction, "knowledge.unreadable")) from error
        author = message.author.display_name
        return from_message(link, author, message.content, self.service.settings.chunk_chars)

    @knowledge.command(name="auto-offer")
    @app_commands.describe(enabled="Offer the best notes with every message here")
    async def auto_offer(self, interaction: discord.Interaction, enabled: bool) -> None:
        """Offer the model the best notes for every message (else only when it searches)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = await self._manager(interaction)
        if guild_id is None:
            return
        await set_auto_offer(self.bot.services.store, guild_id, enabled)
        key = "knowledge.auto_offer_on" if enabled else "knowledge.auto_offer_off"
        await _say(interaction, self._t(interaction, key))

    @knowledge.command(name="list")
    async def list_sources(self, interaction: discord.Interaction) -> None:
        """List this server's knowledge sources."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = await self._manager(interaction)
        if guild_id is None:
            return
        sources = await self.service.store.list_sources(guild_id)
        if not sources:
            await _say(interaction, self._t(interaction, "knowledge.empty"))
            return
        lines = [
            self._t(
                interaction,
                "knowledge.source_line",
                id=source.id,
                title=source.title,
                kind=source.kind,
                chunks=source.chunk_count,
                user=source.added_by,
            )
            for source in sources
        ]
        await _say(interaction, "\n".join(lines))

    @knowledge.command(name="remove")
    @app_commands.describe(source="The source number /knowledge list shows")
    async def remove(self, interaction: discord.Interaction, source: int) -> None:
        """Remove a source from this server's knowledge base."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = await self._manager(interaction)
        if guild_id is None:
            return
        removed = await self.service.store.remove_source(guild_id, source)
        if removed is None:
            await _say(interaction, self._t(interaction, "knowledge.no_source", source=source))
            return
        removed_text = self._t(interaction, "knowledge.removed", title=removed.title, id=removed.id)
        await _say(interaction, removed_text)

    @memory.command(name="show")
    async def show(self, interaction: discord.Interaction) -> None:
        """Show what the bot remembers about you here (only you see it)."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        memories = await self.service.store.memories(interaction.user.id, _scope(interaction))
        if not memories:
            await _say(interaction, self._t(interaction, "memory.nothing"))
            return
        lines = [f"#{memory.id}: {memory.text}" for memory in memories]
        await _say(interaction, self._t(interaction, "memory.show", lines="\n".join(lines)))

    @memory.command(name="forget")
    @app_commands.describe(memory="The memory number /memory show shows (empty: all of them)")
    async def forget(self, interaction: discord.Interaction, memory: int | None = None) -> None:
        """Delete one memory, or everything the bot remembers about you here."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        deleted = await self.service.store.forget_memories(
            interaction.user.id, _scope(interaction), memory
        )
        if memory is not None and not deleted:
            await _say(interaction, self._t(interaction, "memory.no_memory", memory=memory))
            return
        await _say(interaction, self._t(interaction, "memory.deleted", count=deleted))


def _scope(interaction: discord.Interaction) -> int:
    """Memories belong to a server the bot is in, or to direct messages."""
    if interaction.guild_id is not None and interaction.is_guild_integration():
        return interaction.guild_id
    return DM_SCOPE


async def _say(interaction: discord.Interaction, text: str) -> None:
    fitted = text if len(text) <= MAX_LEN else text[: MAX_LEN - 1] + "…"
    await interaction.edit_original_response(content=fitted, allowed_mentions=NO_MENTIONS)


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(Knowledge(bot))
