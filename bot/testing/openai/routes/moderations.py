"""``POST /v1/moderations``: scripted categories and scores; not flagged by default."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..ids import new_id
from ..replies import MODERATION_CATEGORIES, ModerationReply
from ..script import ModerationScript
from ..state import EmulatorState
from .common import before_response, receive_json, respond_json

FLAGGED_SCORE = 0.9
CLEAN_SCORE = 0.0001
IMAGE_CATEGORIES = frozenset(
    {
        "self-harm",
        "self-harm/intent",
        "self-harm/instructions",
        "sexual",
        "violence",
        "violence/graphic",
    }
)


async def moderations(
    state: EmulatorState, script: ModerationScript, request: web.Request
) -> web.Response:
    """Answer ``moderations.create`` with one result per input item."""
    body = await receive_json(state, request, "CreateModerationRequest")
    step = await script.next_step(body, pause=state.pause)
    model = str(body.get("model") or "omni-moderation-latest")
    await before_response(state, request, step.fault, model, stream=False)
    replies = _per_item(step.reply, _item_count(body.get("input")))
    latency = replies[0].latency if replies and replies[0].latency is not None else script.latency
    await state.pause(latency)
    has_image = _has_image(body.get("input"))
    data = {
        "id": new_id("modr-"),
        "model": model if model != "omni-moderation-latest" else "omni-moderation-2024-09-26",
        "results": [_result(reply, has_image) for reply in replies],
    }
    return respond_json(state, request, data, "CreateModerationResponse", fault=step.fault)


def _item_count(value: Any) -> int:
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return len(value)
    return 1  # a string, or one multi-modal input (text and images are judged together)


def _has_image(value: Any) -> bool:
    return isinstance(value, list) and any(
        isinstance(i, dict) and i.get("type") == "image_url" for i in value
    )


def _per_item(reply: Any, count: int) -> list[ModerationReply]:
    if isinstance(reply, ModerationReply):
        return [reply] * count
    if isinstance(reply, list) and reply:
        listed = [r for r in reply if isinstance(r, ModerationReply)]
        return (listed + [ModerationReply()] * count)[:count]
    return [ModerationReply()] * count


def _result(reply: ModerationReply, has_image: bool) -> dict[str, Any]:
    flagged_categories = set(reply.categories)
    categories = {name: name in flagged_categories for name in MODERATION_CATEGORIES}
    scores = {
        name: reply.scores.get(name, FLAGGED_SCORE if name in flagged_categories else CLEAN_SCORE)
        for name in MODERATION_CATEGORIES
    }
    applied = {
        name: ["text", "image"] if has_image and name in IMAGE_CATEGORIES else ["text"]
        for name in MODERATION_CATEGORIES
    }
    flagged = reply.flagged if reply.flagged is not None else bool(flagged_categories)
    return {
        "flagged": flagged,
        "categories": categories,
        "category_scores": scores,
        "category_applied_input_types": applied,
    }
