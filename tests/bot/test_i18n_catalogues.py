"""The message catalogues: every key in every catalogue, and formats that agree with English."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.i18n import Catalogue


def test_no_catalogue_lacks_a_key_of_english() -> None:
    catalogue = Catalogue.load()
    assert {"en", "ko"} <= set(catalogue.locales)
    assert catalogue.missing() == {}, "translate these keys (they show in English meanwhile)"


def test_every_translation_keeps_the_english_placeholders() -> None:
    assert Catalogue.load().placeholder_mismatches() == []


def test_a_new_language_is_a_file_and_missing_keys_are_listed(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_text('[reset]\nnothing = "Nothing."\nown = "Cleared {n}."\n')
    (tmp_path / "fr.toml").write_text('[reset]\nnothing = "Rien."\n')
    catalogue = Catalogue.load(tmp_path)
    assert catalogue.text("reset.nothing", "fr") == "Rien."
    assert catalogue.text("reset.own", "fr", n=2) == "Cleared 2."
    assert catalogue.missing() == {"fr": ["reset.own"]}


def test_an_unknown_key_is_a_bug_named_as_such() -> None:
    with pytest.raises(KeyError, match=r"no message 'nope' in en\.toml"):
        Catalogue.load().text("nope", "ko")


def test_the_english_catalogue_says_what_the_code_says() -> None:
    """The engine, the policies and the permission checks write English and name it by key:
    en.toml holds the same text, so an English user reads the same words either way."""
    from bot.approval import PRESS_TEXTS
    from bot.conversation import STORE_FAILED
    from bot.engine.failures import NOTICES, USER_MESSAGES
    from bot.guild_settings import SHOW_TEXTS
    from bot.policy.moderation import _UNAVAILABLE
    from bot.policy.permissions import REFUSALS
    from bot.policy.usage import REPORT_TEXTS
    from bot.reply_core import REPLY_TEXTS

    catalogue = Catalogue.load()
    english = {f"failure.{kind}": text for kind, text in USER_MESSAGES.items()}
    english |= {**NOTICES, **REFUSALS, **REPORT_TEXTS, **REPLY_TEXTS, **SHOW_TEXTS, **PRESS_TEXTS}
    english["failure.store"] = STORE_FAILED
    english["moderation.unavailable"] = _UNAVAILABLE
    for key, text in english.items():
        values = {name: f"<{name}>" for name in _names(text)}
        assert catalogue.text(key, "en", **values) == text.format(**values), key


def _names(text: str) -> set[str]:
    import string

    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
