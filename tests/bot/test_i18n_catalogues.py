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
