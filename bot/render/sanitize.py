"""Character-level clean-up of model output (and of user text before it reaches the model).

- Unicode tag characters (U+E0000-U+E007F) are invisible and can smuggle instructions; they are
  removed in both directions. This also turns subdivision flags (e.g. England) into a plain black
  flag.
- Bidi embedding/override/isolate controls (U+202A-U+202E, U+2066-U+2069) can make text read
  differently from what it is; they are removed from model output.
- Surrogate halves stored as code points (e.g. from JSON decoded with ``surrogatepass``) are
  joined into the astral character they encode; lone halves become U+FFFD, because they cannot be
  encoded as UTF-8 for Discord.
- ``@everyone`` and ``@here`` (any case) get a zero-width space after the ``@``, so they never
  ping even if a message is sent without ``allowed_mentions``. ``allowed_mentions=none`` stays the
  first line of defence; role and user mentions are left to it.
"""

from __future__ import annotations

import re

ZERO_WIDTH_SPACE = "\u200b"

_TAG_CHARACTERS = re.compile("[\U000e0000-\U000e007f]+")
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]+")
_SURROGATE = re.compile("[\ud800-\udfff]")
_MASS_MENTION = re.compile("@(?=everyone|here)", re.IGNORECASE)


def fix_surrogates(text: str) -> str:
    """Join surrogate pairs stored as two code points; replace lone halves with U+FFFD."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def neutralize_mass_mentions(text: str) -> str:
    """Put a zero-width space after the ``@`` of every ``@everyone`` and ``@here``."""
    return _MASS_MENTION.sub("@" + ZERO_WIDTH_SPACE, text)


def sanitize_output(text: str) -> str:
    """Clean model output for Discord (see the module docstring)."""
    text = fix_surrogates(text)
    text = _TAG_CHARACTERS.sub("", text)
    text = _BIDI_CONTROLS.sub("", text)
    return neutralize_mass_mentions(text)


def clean_user_text(text: str) -> str:
    """Clean user text before it goes to the model: remove tag characters, fix surrogates."""
    return _TAG_CHARACTERS.sub("", fix_surrogates(text))
