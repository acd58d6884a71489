"""Voice messages: transcribed, shown, answered through the conversation service, maybe spoken.

Automatic: a voice message where the bot answers (a DM, a reply to the bot, the bot's threads,
free-chat channels), as the intake classified it for the chat cog's message listener (the
``voice_arrival`` event), is transcribed; the transcript is shown as a quoted reply and goes to
the model as the user's turn, labelled as untrusted user content. When spoken replies are on for
the guild, the text answer is followed by a voice message saying it.

On demand: the "Transcribe" message context menu and ``/transcribe`` (ephemeral, any audio file).
"""

from __future__ import annotations

import io
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ToolcordBot
from bot.discord_safety import NO_MENTIONS
from bot.errors import StoreError
from bot.i18n import Catalogue, guild_locale, locale_of
from bot.intake import Arrival, incoming_turn, start_reply
from bot.policy import Refusal
from bot.store import Usage
from bot.voice import (
    AnswerRecorder,
    AudioRejected,
    Payer,
    SpokenReply,
    Transcript,
    VoiceFailure,
    VoiceService,
    audio_attachment,
    normalize_language,
    send_voice_message,
    show_transcript,
    transcript_for_model,
    voice_attachment,
)

log = logging.getLogger("toolcord.voice")


class Voice(commands.Cog):
    """Transcribes voice messages and audio files; answers voice with text (and voice)."""

    def __init__(self, bot: ToolcordBot) -> None:
        self.bot = bot
        meter = bot.services.quotas
        self.voice = VoiceService.from_settings(bot.settings, bot.services.client, meter=meter)
        self._in_flight: set[int] = set()
        self._menu = app_commands.ContextMenu(name="Transcribe", callback=self.transcribe_message)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self._menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self._menu.name, type=self._menu.type)

    # ---- automatic: voice messages where the bot answers ------------------------------------

    @commands.Cog.listener()
    async def on_voice_arrival(self, message: discord.Message, arrival: Arrival) -> None:
        """A voice message the bot answers, as the chat cog's message listener classified it."""
        if message.id in self._in_flight:
            return
        attachment = voice_attachment(message)
        if attachment is None:
            await self._reply(message, self._t(message, "voice.no_intent"))
            return
        self._in_flight.add(message.id)
        try:
            if not await self._already_accepted(message.id):
                await self._answer_voice(message, attachment, arrival)
        finally:
            self._in_flight.discard(message.id)

    async def _answer_voice(
        self, message: discord.Message, attachment: discord.Attachment, arrival: Arrival
    ) -> None:
        transcript = await self._transcribe_voice(message, attachment)
        if transcript is None:
            return
        await self._send_transcript(message, transcript)
        limit = self.bot.settings.chat.max_input_chars
        text = transcript_for_model(transcript.text, transcript.duration_s, limit)
        turn = incoming_turn(arrival, text)
        recorders: list[AnswerRecorder] = []

        async def make_sink() -> AnswerRecorder:
            recorders.append(AnswerRecorder(await start_reply(self.bot, arrival.target)))
            return recorders[0]

        speak = arrival.place.voice_replies
        accepted = await self.bot.conversations.handle(turn, make_sink)
        answer = recorders[0].final_text if recorders else None
        if accepted and answer and speak:
            await self._speak(message, answer)

    async def _transcribe_voice(
        self, message: discord.Message, attachment: discord.Attachment
    ) -> Transcript | None:
        try:
            async with message.channel.typing():
                transcript = await self.voice.transcribe_attachment(
                    attachment, payer=await self._payer(message.author, message.guild)
                )
        except (AudioRejected, VoiceFailure) as exc:
            await self._reply(message, f"⚠️ {self._failure_text(message, exc)}")
            return None
        except Exception:
            log.exception("transcribing voice message %s failed", message.id)
            await self._reply(message, self._t(message, "voice.unexpected"))
            return None
        return transcript

    async def _send_transcript(self, message: discord.Message, transcript: Transcript) -> None:
        shown = show_transcript(
            transcript.text,
            transcript.duration_s,
            allow_hosts=self.bot.settings.chat.link_allow_hosts,
        )
        files = [_transcript_file(transcript.text)] if shown.cut else []
        await self._reply(message, shown.content, files=files)

    def _t(self, message: discord.Message, key: str, **values: object) -> str:
        """The bot's message ``key`` in the server's language (English in DMs or when missing)."""
        return self.bot.catalogue.text(key, guild_locale(message.guild), **values)

    def _refusal_text(self, message: discord.Message, refusal: Refusal) -> str:
        """A quota refusal in the server's language (its English when it has no key)."""
        return _refusal_in(self.bot.catalogue, refusal, guild_locale(message.guild))

    def _failure_text(self, message: discord.Message, exc: AudioRejected | VoiceFailure) -> str:
        """A voice failure for the user: a quota's refusal in the server's language."""
        if isinstance(exc, VoiceFailure) and exc.refusal is not None:
            return self._refusal_text(message, exc.refusal)
        return exc.user_message

    async def _reply(
        self, message: discord.Message, content: str, files: list[discord.File] | None = None
    ) -> None:
        try:
            await message.channel.send(
                content,
                reference=message.to_reference(fail_if_not_exists=False),
                allowed_mentions=NO_MENTIONS,
                mention_author=False,
                suppress_embeds=True,
                files=files or [],
            )
        except discord.HTTPException as exc:
            log.warning("could not reply in channel %s: %s", message.channel.id, exc)

    async def _speak(self, message: discord.Message, answer: str) -> None:
        refusal = await self._speech_refusal(message)
        if refusal is not None:
            reason = self._refusal_text(message, refusal)
            await self._reply(message, self._t(message, "voice.no_spoken_reply", reason=reason))
            return
        try:
            spoken = await self.voice.speak_answer(answer)
            if spoken is None:
                return
            await self._charge_speech(message, spoken)
            await send_voice_message(
                self.bot.http,
                message.channel.id,
                spoken.clip,
                reference=message.to_reference(fail_if_not_exists=False),
            )
        except VoiceFailure as exc:
            reason = self._failure_text(message, exc)
            await self._reply(message, self._t(message, "voice.no_spoken_reply", reason=reason))
        except discord.HTTPException as exc:
            log.warning("Discord refused the spoken reply in %s: %s", message.channel.id, exc)

    async def _speech_refusal(self, message: discord.Message) -> Refusal | None:
        """The quota refusal of a spoken reply (a model call of its own), if a budget is spent."""
        guild_id = message.guild.id if message.guild else None
        is_owner = await self.bot.is_owner(message.author)
        return await self.bot.services.quotas.admit_call(
            message.author.id, guild_id, is_owner=is_owner
        )

    async def _charge_speech(self, message: discord.Message, spoken: SpokenReply) -> None:
        clip = spoken.clip
        usage = Usage(
            model=spoken.model,
            prompt_tokens=clip.input_tokens,
            completion_tokens=clip.output_tokens,
        )
        guild_id = message.guild.id if message.guild else None
        try:
            await self.bot.services.quotas.charge_call(message.author.id, guild_id, usage)
        except StoreError as exc:
            log.warning("could not record speech usage: %s", exc)

    async def _already_accepted(self, message_id: int) -> bool:
        """A replayed event: the voice message is already a turn of a conversation."""
        return await self.bot.services.store.conversation_for_message(message_id) is not None

    async def _payer(
        self, user: discord.User | discord.Member, guild: discord.Guild | None
    ) -> Payer:
        """Whose budgets a transcription for ``user`` counts against."""
        guild_id = guild.id if guild is not None else None
        return Payer(user.id, guild_id, is_owner=await self.bot.is_owner(user))

    async def _record_usage(self, model: str, user_id: int, guild: discord.Guild | None) -> None:
        try:
            await self.bot.services.store.record_usage(
                Usage(model=model), user_id=user_id, guild_id=guild.id if guild else None
            )
        except StoreError as exc:
            log.warning("could not record voice usage: %s", exc)

    # ---- on demand: /transcribe and the "Transcribe" context menu ---------------------------

    @app_commands.command(
        name="transcribe", description="Transcribe an audio file (only you see it)."
    )
    @app_commands.describe(
        file="The recording: OGG/Opus, WAV, MP3, FLAC, WEBM or M4A.",
        language="Its language as a two-letter code, e.g. en or fr (optional).",
    )
    async def transcribe_file(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment,
        language: str | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._transcribe_for(interaction, file, language)

    async def transcribe_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        """The "Transcribe" context menu on any message with a voice message or audio file."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        attachment = audio_attachment(message)
        if attachment is None:
            text = self.bot.catalogue.text("voice.no_audio", locale_of(interaction))
            await _edit_response(interaction, text)
            return
        await self._transcribe_for(interaction, attachment, None)

    async def _transcribe_for(
        self,
        interaction: discord.Interaction,
        attachment: discord.Attachment,
        language: str | None,
    ) -> None:
        try:
            transcript = await self.voice.transcribe_attachment(
                attachment,
                normalize_language(language),
                payer=await self._payer(interaction.user, interaction.guild),
            )
        except (AudioRejected, VoiceFailure) as exc:
            text = exc.user_message
            if isinstance(exc, VoiceFailure) and exc.refusal is not None:
                text = _refusal_in(self.bot.catalogue, exc.refusal, locale_of(interaction))
            await _edit_response(interaction, f"⚠️ {text}")
            return
        except Exception:
            log.exception("transcribing attachment %s failed", attachment.id)
            text = self.bot.catalogue.text("voice.unexpected", locale_of(interaction))
            await _edit_response(interaction, text)
            return
        shown = show_transcript(
            transcript.text,
            transcript.duration_s,
            allow_hosts=self.bot.settings.chat.link_allow_hosts,
        )
        files = [_transcript_file(transcript.text)] if shown.cut else []
        await _edit_response(interaction, shown.content, files)


def _refusal_in(catalogue: Catalogue, refusal: Refusal, locale: str | None) -> str:
    """A policy's refusal in ``locale`` (its English when it has no key)."""
    if refusal.key is None or not catalogue.has(refusal.key, "en"):
        return refusal.message
    return catalogue.text(refusal.key, locale, **refusal.values)


async def _edit_response(
    interaction: discord.Interaction, content: str, files: list[discord.File] | None = None
) -> None:
    try:
        await interaction.edit_original_response(
            content=content, attachments=files or [], allowed_mentions=NO_MENTIONS
        )
    except discord.HTTPException as exc:
        log.warning("could not answer interaction %s: %s", interaction.id, exc)


def _transcript_file(text: str) -> discord.File:
    return discord.File(io.BytesIO(text.encode()), filename="transcript.txt")


async def setup(bot: ToolcordBot) -> None:
    """discord.py extension entry point."""
    await bot.add_cog(Voice(bot))
