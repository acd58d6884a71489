"""Slash command names and descriptions from the catalogues, through discord.py's Translator.

Keys: ``command.<name>.description``, ``command.<name>.name`` (a localized name, optional),
``command.<name>.param.<parameter>.description`` and ``menu.<name>`` for a context menu's name
(``<name>`` as in English, spaces kept). English is the default text and is never looked up; a
locale whose catalogue lacks a key gets no localization for it (Discord shows English).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands

if TYPE_CHECKING:
    from bot.i18n import Catalogue

Location = app_commands.TranslationContextLocation


class CatalogueTranslator(app_commands.Translator):
    """Localizes the command tree from a :class:`~bot.i18n.Catalogue`."""

    def __init__(self, catalogue: Catalogue) -> None:
        super().__init__()
        self._catalogue = catalogue

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = catalogue_key(context)
        served = self._catalogue.resolve(locale.value)
        if key is None or served is None or served == "en":
            return None
        if not self._catalogue.has(key, served):
            return None
        return self._catalogue.text(key, served)


def locale_of(interaction: discord.Interaction) -> str | None:
    """The user's language (Discord sends it with every interaction), else the server's."""
    locale = interaction.locale or interaction.guild_locale
    return locale.value if locale is not None else None


def guild_locale(guild: discord.Guild | None) -> str | None:
    """A server's preferred language (for messages that answer no interaction), or None."""
    return guild.preferred_locale.value if guild is not None else None


def catalogue_key(context: app_commands.TranslationContextTypes) -> str | None:
    """The catalogue key of one string of the command tree, or None for strings not localized."""
    data = context.data
    location = context.location
    if location is Location.command_name and isinstance(data, app_commands.ContextMenu):
        return f"menu.{data.name}"
    if location is Location.command_name and isinstance(data, app_commands.Command):
        return f"command.{data.qualified_name}.name"
    if location is Location.group_name and isinstance(data, app_commands.Group):
        return f"command.{data.qualified_name}.name"
    if location is Location.command_description and isinstance(data, app_commands.Command):
        return f"command.{data.qualified_name}.description"
    if location is Location.group_description and isinstance(data, app_commands.Group):
        return f"command.{data.qualified_name}.description"
    if location is Location.parameter_description and isinstance(data, app_commands.Parameter):
        return f"command.{data.command.qualified_name}.param.{data.name}.description"
    return None
