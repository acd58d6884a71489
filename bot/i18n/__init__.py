"""The bot's own words in its users' languages: message catalogues, one TOML file per locale.

``locales/en.toml`` holds every key; another language is a file named after its Discord locale
(``ko.toml``, ``pt-BR.toml``, or a bare language such as ``pt.toml`` for all its variants). A key a
catalogue lacks falls back to English, so a partial translation is safe to ship.

Where the words are chosen: the cogs look up their replies by the interaction's locale
(:func:`locale_of`, else the server's) or, for channel messages, the server's preferred locale
(:func:`guild_locale`). The engine and the policies know no locale: they write English and name it
by key (``Failed.message_key``, ``Final.notice_key``, ``Refusal.key``), and
:class:`bot.localized_sink.LocalizedSink` swaps in the turn's language at the Discord edge.
Module-level English tables (``REFUSALS``, ``REPORT_TEXTS``, ``SHOW_TEXTS``, ``REPLY_TEXTS``,
``USER_MESSAGES``, ``NOTICES``) must agree with en.toml (tests/bot/test_i18n_catalogues.py).

```python
catalogue = Catalogue.load()
catalogue.text("reset.nothing", "ko")            # the Korean text
catalogue.text("export.too_large", "en-US", size_mb="9.5")
```
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from bot.i18n.translator import CatalogueTranslator, guild_locale, locale_of

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
FALLBACK = "en"

__all__ = [
    "FALLBACK",
    "Catalogue",
    "CatalogueTranslator",
    "guild_locale",
    "language_name",
    "locale_of",
]


class Catalogue:
    """Every message of every locale; read-only once loaded."""

    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        if FALLBACK not in messages:
            raise ValueError(f"the catalogues need {FALLBACK}.toml: it is every key's fallback")
        self._messages = {locale: dict(texts) for locale, texts in messages.items()}

    @classmethod
    def load(cls, folder: Path = LOCALES_DIR) -> Catalogue:
        """Read ``<locale>.toml`` files; nested tables become dotted keys."""
        messages = {}
        for path in sorted(folder.glob("*.toml")):
            with path.open("rb") as file:
                messages[path.stem] = dict(_flatten(tomllib.load(file)))
        return cls(messages)

    @property
    def locales(self) -> list[str]:
        return sorted(self._messages)

    def keys(self, locale: str = FALLBACK) -> set[str]:
        return set(self._messages.get(locale, {}))

    def templates(self, locale: str) -> dict[str, str]:
        """``locale``'s own messages as written (placeholders unfilled), by key."""
        return dict(self._messages.get(locale, {}))

    def has(self, key: str, locale: str) -> bool:
        """Whether ``locale``'s own catalogue (no fallback) has ``key``."""
        return key in self._messages.get(locale, {})

    def resolve(self, locale: str | None) -> str | None:
        """The catalogue that serves a Discord locale (``ko``, ``pt-BR`` -> ``pt``), or None."""
        for candidate in _candidates(locale):
            if candidate in self._messages:
                return candidate
        return None

    def text(self, key: str, locale: str | None, **values: Any) -> str:
        """``key`` in ``locale`` (else English) with ``{placeholders}`` filled from ``values``.

        Raises:
            KeyError: English lacks ``key`` (a bug: every key is in en.toml).
        """
        for candidate in (*_candidates(locale), FALLBACK):
            template = self._messages.get(candidate, {}).get(key)
            if template is not None:
                return template.format(**values)
        raise KeyError(f"no message {key!r} in {FALLBACK}.toml")

    def missing(self) -> dict[str, list[str]]:
        """Per locale, the English keys its catalogue lacks (they show in English)."""
        english = self.keys()
        return {
            locale: sorted(english - set(texts))
            for locale, texts in self._messages.items()
            if locale != FALLBACK and english - set(texts)
        }

    def placeholder_mismatches(self) -> list[str]:
        """``locale:key`` entries whose placeholders differ from English's (a broken format)."""
        english = self._messages[FALLBACK]
        return [
            f"{locale}:{key}"
            for locale, texts in self._messages.items()
            for key, text in texts.items()
            if key in english and _fields(text) != _fields(english[key])
        ]


def language_name(locale: str | None) -> str:
    """A Discord locale with its English name for the model, e.g. ``ko (Korean)``."""
    if not locale:
        return "unknown"
    name = _LANGUAGE_NAMES.get(locale) or _LANGUAGE_NAMES.get(locale.split("-")[0])
    return f"{locale} ({name})" if name else locale


def _candidates(locale: str | None) -> list[str]:
    if not locale:
        return []
    language = locale.split("-")[0]
    return [locale] if language == locale else [locale, language]


def _flatten(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            yield from _flatten(value, key + ".")
        else:
            yield key, str(value)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


_LANGUAGE_NAMES = {
    "en": "English",
    "ko": "Korean",
    "ja": "Japanese",
    "zh": "Chinese",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "pt": "Portuguese",
    "it": "Italian",
    "nl": "Dutch",
    "ru": "Russian",
    "uk": "Ukrainian",
    "pl": "Polish",
    "tr": "Turkish",
    "vi": "Vietnamese",
    "th": "Thai",
    "id": "Indonesian",
    "hi": "Hindi",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "fi": "Finnish",
    "cs": "Czech",
    "el": "Greek",
    "hu": "Hungarian",
    "ro": "Romanian",
    "bg": "Bulgarian",
    "hr": "Croatian",
    "lt": "Lithuanian",
}
