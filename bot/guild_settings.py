"""Settings per guild and per channel, set by server admins from Discord.

Stored through the store's settings (scopes ``"guild"`` and ``"channel"``, keyed by Discord id) as
JSON documents of :class:`ScopeSettings`. The settings that apply in a place are layered: the
owner's configuration, then the guild's, then the channel's (for a thread: its parent channel's,
then the thread's own). A value left unset in a layer inherits from the layer below.

Reads go through a small cache; changes made through :class:`GuildSettings` invalidate it at once
(another process sharing a PostgreSQL store sees them within ``ttl_s`` seconds).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.keyed_locks import KeyedLocks
from bot.settings import Settings
from bot.store import SettingsStore

Scope = Literal["guild", "channel"]
ModerationMode = Literal["off", "flag", "block"]
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh"]
SCOPES: tuple[Scope, ...] = ("guild", "channel")
MAX_PERSONA_CHARS = 2_000
MAX_RULES_CHARS = 4_000


class ScopeSettings(BaseModel):
    """What one guild or channel has set; ``None`` (or a missing key) inherits."""

    model_config = ConfigDict(extra="ignore")

    persona: str | None = Field(default=None, max_length=MAX_PERSONA_CHARS)
    model: str | None = None
    reasoning_effort: ReasoningEffort | None = None
    tools: dict[str, bool] = Field(default_factory=dict)
    free_chat: bool | None = None
    auto_thread: bool | None = None
    private_conversations: bool | None = None
    moderation_mode: ModerationMode | None = None
    moderation_log_channel_id: int | None = None
    moderation_thresholds: dict[str, float] = Field(default_factory=dict)
    moderation_rules: str | None = Field(default=None, max_length=MAX_RULES_CHARS)
    voice_replies: bool | None = None

    def stored(self) -> dict[str, Any]:
        """The JSON document to store (unset values left out)."""
        return self.model_dump(exclude_none=True, exclude_defaults=True)


@dataclass(frozen=True)
class PlaceModeration:
    """The moderation settings in force in a place (mode, log channel, thresholds, rules)."""

    mode: ModerationMode = "off"
    log_channel_id: int | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)
    rules: str = ""


@dataclass(frozen=True)
class EffectiveSettings:
    """The settings in force in one place (guild, channel, thread or DM).

    Attributes:
        persona: text added to the system prompt, or None.
        model: the chat model chosen here (one of the allowed models), or None for the default.
        reasoning_effort: the reasoning effort chosen here, or None (``openai.reasoning_effort``).
        enabled_tools: the tools enabled here, or None when nobody switched any tool here (the
            owner's ``tools.enabled`` applies).
        free_chat: the bot answers every message here without a mention.
        auto_thread: a mention in a channel opens a thread for the conversation.
        private_conversations: each user has their own conversation in shared channels.
        moderation: the moderation policy.
        voice_replies: answers to voice messages are spoken too.
    """

    persona: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None
    enabled_tools: tuple[str, ...] | None = None
    free_chat: bool = False
    auto_thread: bool = False
    private_conversations: bool = False
    moderation: PlaceModeration = field(default_factory=PlaceModeration)
    voice_replies: bool = False

    @property
    def moderation_mode(self) -> ModerationMode:
        """Flat view for ``bot.policy.moderation.guild_config``."""
        return self.moderation.mode

    @property
    def moderation_log_channel_id(self) -> int | None:
        return self.moderation.log_channel_id

    @property
    def moderation_thresholds(self) -> Mapping[str, float]:
        return self.moderation.thresholds

    @property
    def moderation_rules(self) -> str:
        return self.moderation.rules

    def turn_overrides(self) -> dict[str, Any]:
        """The ``IncomingTurn.overrides`` for a turn here (only what differs from the config)."""
        overrides: dict[str, Any] = {}
        if self.persona:
            overrides["persona"] = self.persona
        if self.model:
            overrides["model"] = self.model
        if self.reasoning_effort:
            overrides["reasoning_effort"] = self.reasoning_effort
        if self.enabled_tools is not None:
            overrides["enabled_tools"] = list(self.enabled_tools)
        return overrides


@dataclass(frozen=True)
class _Combined:
    """The settings in force for one list of layers (held so their ids are not reused)."""

    layers: tuple[ScopeSettings, ...]
    effective: EffectiveSettings


class SettingsChangeError(ValueError):
    """An admin asked for a setting that cannot be; the message says what to pick instead.

    ``key`` and ``values`` name the message in the bot's catalogues (None: shown as is).
    """

    def __init__(
        self, message: str, *, key: str | None = None, values: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.key = key
        self.values = dict(values or {})


class GuildSettings:
    """Reads and changes the settings of guilds and channels (``bot.services.guild_settings``).

    Args:
        store: where the settings live.
        settings: the owner's configuration (defaults and the allowed models).
        tool_names: every tool the bot has loaded (what ``/tools`` may switch), or a function
            returning them (MCP servers add and remove tools while the bot runs).
        ttl_s: how long a cached scope is trusted.
        max_entries: scopes kept in the cache.
    """

    def __init__(
        self,
        store: SettingsStore,
        settings: Settings,
        tool_names: Sequence[str] | Callable[[], Sequence[str]] = (),
        *,
        ttl_s: float = 30.0,
        max_entries: int = 5_000,
    ) -> None:
        self._store = store
        self._settings = settings
        self._names = tool_names if callable(tool_names) else tuple(tool_names)
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._cache: OrderedDict[tuple[Scope, int], tuple[float, ScopeSettings]] = OrderedDict()
        self._combined: dict[tuple[tuple[int, ...], frozenset[int]], _Combined] = {}
        self._locks = KeyedLocks()

    @property
    def tool_names(self) -> tuple[str, ...]:
        names = self._names
        return tuple(names()) if callable(names) else tuple(names)

    @property
    def base_tools(self) -> tuple[str, ...]:
        """The tools the owner's configuration enables (the most any guild may enable)."""
        enabled = self._settings.tools.enabled
        names = self.tool_names
        if enabled is None:
            return names
        return tuple(name for name in names if name in enabled)

    async def get(self, scope: Scope, scope_id: int) -> ScopeSettings:
        """What one guild or channel has set (cached)."""
        key = (scope, scope_id)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() < cached[0]:
            self._cache.move_to_end(key)
            return cached[1]
        data = await self._store.get_settings(scope, scope_id)
        try:
            loaded = ScopeSettings.model_validate(data)
        except ValidationError:
            loaded = ScopeSettings()
        self._remember(key, loaded)
        return loaded

    async def update(self, scope: Scope, scope_id: int, **changes: Any) -> ScopeSettings:
        """Change some settings of a guild or channel; a value of None unsets it.

        ``tools`` and ``moderation_thresholds`` are merged key by key (a None value removes the
        key). The change is visible to the next read.

        Raises:
            SettingsChangeError: a value is not allowed (e.g. a model the owner did not allow).
        """
        self._check(changes)
        key = (scope, scope_id)
        async with self._locks.hold(key):
            current = (await self._store.get_settings(scope, scope_id)) or {}
            merged = _merge(current, changes)
            try:
                updated = ScopeSettings.model_validate(merged)
            except ValidationError as exc:
                raise SettingsChangeError(_first_error(exc)) from None
            await self._store.set_settings(scope, scope_id, updated.stored())
            self._remember(key, updated)
        return updated

    def invalidate(self, scope: Scope, scope_id: int) -> None:
        """Forget a cached scope (e.g. after changing the store directly)."""
        self._cache.pop((scope, scope_id), None)

    async def effective(
        self, guild_id: int | None, channel_id: int | None, parent_id: int | None = None
    ) -> EffectiveSettings:
        """The settings in force in a channel; for a thread pass its parent as ``parent_id``.

        In a DM (``guild_id`` None) only the owner's configuration applies.
        """
        layers: list[ScopeSettings] = []
        if guild_id is not None:
            layers.append(await self.get("guild", guild_id))
            for channel in (parent_id, channel_id):
                if channel is not None:
                    layers.append(await self.get("channel", channel))
        channels = frozenset(c for c in (channel_id, parent_id) if c is not None)
        return self._combined_for(layers, channels)

    def _combined_for(
        self, layers: list[ScopeSettings], channels: frozenset[int]
    ) -> EffectiveSettings:
        """``_combine``, once per set of cached layers (a changed scope is a new object)."""
        key = (tuple(id(layer) for layer in layers), channels)
        found = self._combined.get(key)
        if found is not None and all(a is b for a, b in zip(found.layers, layers, strict=True)):
            return found.effective
        if len(self._combined) >= self._max_entries:
            self._combined.clear()
        effective = self._combine(layers, channels)
        self._combined[key] = _Combined(tuple(layers), effective)
        return effective

    def _combine(self, layers: list[ScopeSettings], channels: frozenset[int]) -> EffectiveSettings:
        config = self._settings
        merged = ScopeSettings()
        for layer in layers:
            merged = _overlay(merged, layer)
        moderation = config.moderation
        return EffectiveSettings(
            persona=merged.persona or None,
            model=merged.model if merged.model in config.openai.allowed_models else None,
            reasoning_effort=merged.reasoning_effort,
            enabled_tools=self._enabled_tools(merged.tools),
            free_chat=_pick(
                merged.free_chat, bool(channels & set(config.chat.free_chat_channel_ids))
            ),
            auto_thread=_pick(merged.auto_thread, config.chat.auto_thread),
            private_conversations=_pick(merged.private_conversations, False),
            moderation=PlaceModeration(
                mode=merged.moderation_mode or _mode(moderation.mode),
                log_channel_id=merged.moderation_log_channel_id or moderation.log_channel_id,
                thresholds={**moderation.thresholds, **merged.moderation_thresholds},
                rules=merged.moderation_rules
                if merged.moderation_rules is not None
                else moderation.rules,
            ),
            voice_replies=_pick(merged.voice_replies, config.voice.replies_default),
        )

    def _enabled_tools(self, switches: Mapping[str, bool]) -> tuple[str, ...] | None:
        if not switches:
            return None
        return tuple(name for name in self.base_tools if switches.get(name, True))

    def _check(self, changes: Mapping[str, Any]) -> None:
        model = changes.get("model")
        allowed = self._settings.openai.allowed_models
        if model is not None and model not in allowed:
            values = {"model": repr(model), "allowed": ", ".join(allowed)}
            raise SettingsChangeError(
                SHOW_TEXTS["settings.error.model"].format(**values),
                key="settings.error.model",
                values=values,
            )
        for name in changes.get("tools") or {}:
            if name not in self.base_tools:
                raise SettingsChangeError(
                    SHOW_TEXTS["settings.error.tool"].format(tool=repr(name)),
                    key="settings.error.tool",
                    values={"tool": repr(name)},
                )

    def _remember(self, key: tuple[Scope, int], value: ScopeSettings) -> None:
        self._cache[key] = (time.monotonic() + self._ttl_s, value)
        self._cache.move_to_end(key)
        while len(self._cache) > self._max_entries:
            self._cache.popitem(last=False)


_MERGED_MAPS = ("tools", "moderation_thresholds")


def _merge(current: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if key in _MERGED_MAPS and isinstance(value, Mapping):
            inner = {**(merged.get(key) or {}), **value}
            merged[key] = {k: v for k, v in inner.items() if v is not None}
        elif value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _overlay(base: ScopeSettings, top: ScopeSettings) -> ScopeSettings:
    values = base.model_dump()
    for key, value in top.model_dump().items():
        if key in _MERGED_MAPS:
            values[key] = {**values[key], **value}
        elif value is not None:
            values[key] = value
    return ScopeSettings.model_validate(values)


def _pick(value: bool | None, default: bool) -> bool:
    return default if value is None else value


def _mode(value: str) -> ModerationMode:
    if value == "flag":
        return "flag"
    return "block" if value == "block" else "off"


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}"


def describe_changes(changes: Mapping[str, Any], text: Callable[..., str] | None = None) -> str:
    """A short confirmation of what an admin changed (for the command's reply).

    ``text(key, **values)`` gives the words (English unless the caller passes a translation).
    """
    say = text or _english
    shown = []
    for key, value in changes.items():
        label_key = f"settings.label.{key}"
        label = say(label_key) if label_key in SHOW_TEXTS else key.replace("_", " ")
        if isinstance(value, dict):
            inner = ", ".join(f"{k} {_value(v, say)}" for k, v in value.items())
            shown.append(say("settings.change.inner", label=label, inner=inner))
        elif value is None:
            shown.append(say("settings.change.cleared", label=label))
        elif isinstance(value, bool):
            shown.append(say("settings.change.value", label=label, value=_value(value, say)))
        elif isinstance(value, int) and key.endswith("channel_id"):
            shown.append(say("settings.change.value", label=label, value=f"<#{value}>"))
        else:
            cut = str(value)
            quoted = f"“{cut[:200]}{'…' if len(cut) > 200 else ''}”"
            shown.append(say("settings.change.value", label=label, value=quoted))
    return "; ".join(shown)


def _value(value: Any, say: Callable[..., str]) -> str:
    if value is None:
        return say("settings.word.default")
    if isinstance(value, bool):
        return say("settings.word.on" if value else "settings.word.off")
    return str(value)


SHOW_TEXTS = {
    "settings.show.model": "Model: {value}",
    "settings.show.effort": "Reasoning effort: {value}",
    "settings.show.persona": "Persona: {value}",
    "settings.show.tools": "Tools: {value}",
    "settings.show.free_chat": "Free chat here: {value}",
    "settings.show.auto_thread": "Auto threads: {value}",
    "settings.show.private": "Private conversations: {value}",
    "settings.show.moderation": "Moderation: {mode}{reports}, thresholds {thresholds}{rules}",
    "settings.show.reports": ", reports to {channel}",
    "settings.show.rules": ", written rules set",
    "settings.show.voice": "Voice replies: {value}",
    "settings.word.default_of": "{value} (default)",
    "settings.word.default": "default",
    "settings.word.on": "on",
    "settings.word.off": "off",
    "settings.word.set": "set",
    "settings.word.none": "none",
    "settings.word.all": "all",
    "settings.error.model": "the model {model} is not one the bot's owner allows; pick one of: "
    "{allowed}",
    "settings.error.tool": "there is no tool {tool} the bot's owner enabled; see /tools list",
    "settings.change.inner": "{label}: {inner}",
    "settings.change.cleared": "{label} cleared",
    "settings.change.value": "{label} {value}",
    "settings.label.persona": "persona",
    "settings.label.model": "model",
    "settings.label.reasoning_effort": "reasoning effort",
    "settings.label.tools": "tools",
    "settings.label.free_chat": "free chat",
    "settings.label.auto_thread": "auto thread",
    "settings.label.private_conversations": "private conversations",
    "settings.label.moderation_mode": "moderation mode",
    "settings.label.moderation_log_channel_id": "moderation log channel",
    "settings.label.moderation_thresholds": "moderation thresholds",
    "settings.label.moderation_rules": "moderation rules",
    "settings.label.voice_replies": "voice replies",
}
"""``/settings show``'s words by message key, in English (the command passes its catalogue's)."""


def _english(key: str, **values: Any) -> str:
    return SHOW_TEXTS[key].format(**values)


def describe_effective(
    effective: EffectiveSettings, default_model: str, text: Callable[..., str] = _english
) -> str:
    """The settings in force in a place, one per line (``/settings show``).

    ``text(key, **values)`` gives the words (English unless the caller passes a translation).
    """
    moderation = effective.moderation
    default = text("settings.word.default")
    thresholds = ", ".join(f"{k} ≥ {v:g}" for k, v in moderation.thresholds.items()) or default
    tools = (
        text("settings.word.all")
        if effective.enabled_tools is None
        else ", ".join(effective.enabled_tools) or text("settings.word.none")
    )
    channel = moderation.log_channel_id
    reports = text("settings.show.reports", channel=f"<#{channel}>") if channel else ""
    rules = text("settings.show.rules") if moderation.rules else ""
    on = {True: text("settings.word.on"), False: text("settings.word.off")}
    persona = text("settings.word.set" if effective.persona else "settings.word.none")
    model = effective.model or text("settings.word.default_of", value=default_model)
    mode = moderation.mode
    lines = [
        text("settings.show.model", value=model),
        text("settings.show.effort", value=effective.reasoning_effort or default),
        text("settings.show.persona", value=persona),
        text("settings.show.tools", value=tools),
        text("settings.show.free_chat", value=on[bool(effective.free_chat)]),
        text("settings.show.auto_thread", value=on[bool(effective.auto_thread)]),
        text("settings.show.private", value=on[bool(effective.private_conversations)]),
        text(
            "settings.show.moderation",
            mode=mode,
            reports=reports,
            thresholds=thresholds,
            rules=rules,
        ),
        text("settings.show.voice", value=on[bool(effective.voice_replies)]),
    ]
    return "\n".join(lines)
