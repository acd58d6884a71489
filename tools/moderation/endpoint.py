"""The OpenAI moderation endpoint: one call, and a verdict with per-category thresholds.

Shared by the ``check_moderation`` tool and the bot's automatic moderation policy.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

DEFAULT_MODEL = "omni-moderation-latest"
MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class ModerationVerdict:
    """What the moderation endpoint said about one input.

    Attributes:
        flagged: The endpoint's own overall flag.
        categories: Category name (e.g. ``harassment/threatening``) -> flagged by the endpoint.
        scores: Category name -> score from 0 to 1.
        model: The model that judged.
    """

    flagged: bool
    categories: Mapping[str, bool] = field(default_factory=dict)
    scores: Mapping[str, float] = field(default_factory=dict)
    model: str = ""

    def over(self, thresholds: Mapping[str, float] | None = None) -> list[str]:
        """The categories that count as violations, highest score first.

        A category with a threshold counts when its score reaches the threshold (so a guild can
        be stricter or more lenient than OpenAI); one without counts when the endpoint flagged it.
        """
        limits = thresholds or {}
        names = set(self.categories) | set(self.scores) | set(limits)
        hits = [
            name
            for name in names
            if (
                self.scores.get(name, 0.0) >= limits[name]
                if name in limits
                else self.categories.get(name, False)
            )
        ]
        return sorted(hits, key=lambda name: (-self.scores.get(name, 0.0), name))


def image_data_url(data: bytes, content_type: str) -> str:
    """A ``data:`` URL of an image, as the moderation endpoint accepts it."""
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def supports_images(model: str) -> bool:
    """True for the omni moderation models, which judge images as well as text."""
    return model.startswith("omni-moderation")


async def moderate(
    client: openai.AsyncOpenAI,
    model: str,
    *,
    text: str | None = None,
    image_urls: Sequence[str] = (),
) -> ModerationVerdict:
    """Ask the moderation endpoint about ``text`` and images (judged together as one input).

    Images are left out when ``model`` cannot judge them.

    Raises:
        ValueError: If there is neither text nor an image to judge.
        openai.OpenAIError: When the endpoint fails (callers decide what that means).
    """
    items = _input(model, text, image_urls)
    response = await client.moderations.create(model=model, input=items)
    results = list(response.results or [])
    if not results:
        return ModerationVerdict(False, model=response.model or model)
    return _verdict(results, response.model or model)


def _input(model: str, text: str | None, image_urls: Sequence[str]) -> Any:
    trimmed = (text or "").strip()[:MAX_TEXT_CHARS]
    images = list(image_urls) if supports_images(model) else []
    if not trimmed and not images:
        raise ValueError("there is no text or image to check")
    if not images:
        return trimmed
    parts: list[dict[str, Any]] = [{"type": "text", "text": trimmed}] if trimmed else []
    parts.extend({"type": "image_url", "image_url": {"url": url}} for url in images)
    return parts


def _verdict(results: Sequence[Any], model: str) -> ModerationVerdict:
    flagged = False
    categories: dict[str, bool] = {}
    scores: dict[str, float] = {}
    for result in results:
        flagged = flagged or bool(result.flagged)
        for name, value in _dump(result.categories).items():
            categories[name] = categories.get(name, False) or bool(value)
        for name, value in _dump(result.category_scores).items():
            if isinstance(value, int | float):
                scores[name] = max(scores.get(name, 0.0), float(value))
    return ModerationVerdict(flagged, categories, scores, model)


def _dump(section: Any) -> dict[str, Any]:
    if section is None:
        return {}
    if hasattr(section, "model_dump"):
        dumped = section.model_dump(by_alias=True)
        return dumped if isinstance(dumped, dict) else {}
    return dict(section) if isinstance(section, Mapping) else {}
