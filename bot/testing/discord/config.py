"""Every knob of the Discord emulator, with realistic defaults and fast overrides for tests."""

from __future__ import annotations

import dataclasses

from bot.testing.discord.ratelimit import RateLimitConfig

MEMBERS_INTENT = 1 << 1
PRESENCES_INTENT = 1 << 8
MESSAGE_CONTENT_INTENT = 1 << 15
PRIVILEGED_INTENTS = MEMBERS_INTENT | PRESENCES_INTENT | MESSAGE_CONTENT_INTENT


@dataclasses.dataclass
class EmulatorConfig:
    """Options of :class:`DiscordEmulator` (all keyword arguments of its constructor).

    Args:
        token: the bot token REST and IDENTIFY must carry.
        host: the loopback address to bind.
        port: 0 picks a free port.
        bot_name: the bot user's name.
        heartbeat_interval_ms: sent in HELLO.
        enforce_message_content_intent: blank content/embeds/attachments for sessions without
            the message_content intent (except DMs, mentions of the bot, the bot's own messages).
        privileged_intents_enabled: privileged intents the "developer portal" allows; asking for
            others closes the gateway with 4014 (discord.py raises PrivilegedIntentsRequired).
        honor_compression: answer ``compress=zlib-stream`` with compressed binary frames.
        recommended_shards: ``shards`` in ``GET /gateway/bot``.
        interaction_ack_deadline: seconds to acknowledge an interaction (None disables).
        replay_buffer: dispatches kept per session for RESUME.
        dispatch_log_limit: dispatches kept in ``emu.dispatches``.
        request_log_limit: requests kept in ``emu.requests`` (None keeps all).
        message_retention: messages kept per channel (None keeps all).
        rate_limits: see :class:`RateLimitConfig`.
        max_upload_bytes: largest request body accepted.
    """

    token: str = "test-token"
    host: str = "127.0.0.1"
    port: int = 0
    bot_name: str = "toolcord-test"
    owner_name: str = "owner"
    heartbeat_interval_ms: int = 41_250
    enforce_message_content_intent: bool = True
    privileged_intents_enabled: int = PRIVILEGED_INTENTS
    honor_compression: bool = False
    recommended_shards: int = 1
    interaction_ack_deadline: float | None = 3.0
    replay_buffer: int = 5_000
    dispatch_log_limit: int = 10_000
    request_log_limit: int | None = 100_000
    message_retention: int | None = None
    rate_limits: RateLimitConfig = dataclasses.field(default_factory=RateLimitConfig)
    max_upload_bytes: int = 100 * 1024 * 1024
