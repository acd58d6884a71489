"""What an image costs in prompt tokens, the way OpenAI computes it for each model family.

Source: OpenAI's "Images and vision" guide, section "Calculating costs"
(https://platform.openai.com/docs/guides/images-vision#calculating-costs). Two schemes:

* **Tiles** (GPT-4o, GPT-4.1, GPT-4.5, GPT-5, o1, o3, ...): with ``detail: "high"`` (and
  ``"auto"``, counted as high here: the larger of the two) the image is fitted within 2048 x 2048,
  then scaled so its shortest side is 768; it costs ``base + tile x (512-pixel tiles)``. With
  ``detail: "low"`` it costs ``base``. GPT-4o/4.1/4.5: 85 + 170 per tile; GPT-5: 70 + 140;
  o1/o3: 75 + 150; gpt-4o-mini: 2833 + 5667 (its price per token is lower by the same factor).
* **Patches** (gpt-4.1-mini/nano, o4-mini, gpt-5-mini/nano): the image is cut into 32 x 32
  patches, scaled down to fit at most 1536 of them, and the patch count is multiplied by the
  model's factor (1.62 for -mini, 2.46 for -nano, 1.72 for o4-mini).

Model names are matched by family (``gpt-5.4-mini`` is a GPT-5 mini); names no rule knows are
priced as GPT-4o, the scheme most OpenAI-compatible servers copy.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

TILE = 512
PATCH = 32
MAX_PATCHES = 1536
MAX_SIDE = 2048
SHORT_SIDE = 768


@dataclass(frozen=True, slots=True)
class _Tiles:
    base: int
    per_tile: int


@dataclass(frozen=True, slots=True)
class _Patches:
    factor: float


_Scheme = _Tiles | _Patches
_DEFAULT: _Scheme = _Tiles(85, 170)
# First match wins: the more specific families come first.
_RULES: tuple[tuple[re.Pattern[str], _Scheme], ...] = tuple(
    (re.compile(pattern), scheme)
    for pattern, scheme in (
        (r"^gpt-4o-mini", _Tiles(2833, 5667)),
        (r"^gpt-(4\.1|5)(\.\d+)?-mini", _Patches(1.62)),
        (r"^gpt-(4\.1|5)(\.\d+)?-nano", _Patches(2.46)),
        (r"^o4-mini", _Patches(1.72)),
        (r"^gpt-5", _Tiles(70, 140)),
        (r"^o[13]", _Tiles(75, 150)),
        (r"^(gpt-4o|gpt-4\.1|gpt-4\.5|chatgpt-4o)", _Tiles(85, 170)),
    )
)


def image_tokens(width: int, height: int, model: str, detail: str | None = None) -> int:
    """Prompt tokens an image of ``width`` x ``height`` pixels costs with ``model``."""
    scheme = _scheme(model)
    if isinstance(scheme, _Patches):
        return math.ceil(_patches(width, height) * scheme.factor)
    if detail == "low":
        return scheme.base
    return scheme.base + scheme.per_tile * _tiles(width, height)


def _scheme(model: str) -> _Scheme:
    name = model.lower().rsplit("/", 1)[-1]
    for pattern, scheme in _RULES:
        if pattern.match(name):
            return scheme
    return _DEFAULT


def _tiles(width: int, height: int) -> int:
    """512-pixel tiles after fitting within 2048 square and the short side to 768."""
    width, height = max(1, width), max(1, height)
    scale = min(1.0, MAX_SIDE / max(width, height), SHORT_SIDE / min(width, height))
    return math.ceil(width * scale / TILE) * math.ceil(height * scale / TILE)


def _patches(width: int, height: int) -> int:
    """32-pixel patches, after scaling down to at most 1536 of them (OpenAI's steps)."""
    width, height = max(1, width), max(1, height)
    patches = math.ceil(width / PATCH) * math.ceil(height / PATCH)
    if patches <= MAX_PATCHES:
        return patches
    shrink = math.sqrt(PATCH * PATCH * MAX_PATCHES / (width * height))
    shrink *= min(
        math.floor(width * shrink / PATCH) / (width * shrink / PATCH),
        math.floor(height * shrink / PATCH) / (height * shrink / PATCH),
    )
    fitted = math.ceil(width * shrink / PATCH) * math.ceil(height * shrink / PATCH)
    return min(fitted, MAX_PATCHES)
