"""Request bytes with many images (issue 16, finding 4): images are stored once, not re-sent.

One user sends photo after photo in a DM (four ~1 MB PNGs per message, the last message repeats
the first one's photos), then text-only turns. Before the fix every request re-sent every
image ever attached as base64 (three such messages made a 16 MB request). Now images are
downscaled to what the model sees, stored once per conversation, and each request carries at
most ``chat.max_image_bytes_per_request`` of them, newest first. The window's token budget is
raised far above the images' cost here, so the byte budget is what bounds the requests.

Figures: each chat request's body size (largest, the last text-only one), the image bytes in
the largest request, what the text-only turn would have carried before the fix, the images
stored against the distinct images attached, and their bytes.
"""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass
from typing import Any

from PIL import Image

from bot.images import data_url_length
from bot.store.images import LEFT_OUT, NOT_RESENT
from tests.reliability.rig import USER_DEADLINE_S, open_rig, scratch_dir

CHAT = "/v1/chat/completions"
BUDGET = 8_000_000
# Text, tool definitions and JSON framing around the images: the gate's allowance.
TEXT_ALLOWANCE = 200_000


@dataclass(frozen=True)
class ImagePlan:
    """How many image messages (four photos each) and text-only turns after them."""

    image_turns: int = 12
    text_turns: int = 3
    per_turn: int = 4
    side: int = 580  # a 580x580 random-pixel PNG is about 1 MB
    seed: int = 16


def noisy_png(side: int, seed: int) -> bytes:
    """Random pixels: a PNG that does not compress (about ``3 * side**2`` bytes)."""
    pixels = random.Random(seed).randbytes(side * side * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def _photos(plan: ImagePlan) -> list[list[bytes]]:
    """The photos of each image message; the last message repeats the first one's."""
    turns = [
        [noisy_png(plan.side, plan.seed * 1000 + turn * 10 + i) for i in range(plan.per_turn)]
        for turn in range(plan.image_turns - 1)
    ]
    return [*turns, turns[0]]


async def run_images(plan: ImagePlan) -> dict[str, Any]:
    """Send the photos and text turns; measure the requests and the store."""
    photos = _photos(plan)
    texts = [f"photos {n}" for n in range(len(photos))]
    texts += [f"question {n}" for n in range(plan.text_turns)]
    answered = 0
    with scratch_dir("images") as workdir:
        async with open_rig(workdir) as rig:
            emu = rig.discord
            dm = emu.dm_channel("bob")
            overrides = {
                "openai": {"context_tokens": 1_000_000},
                "chat": {"max_image_bytes_per_request": BUDGET},
            }
            async with rig.harness.run(**overrides) as bot:
                for number, text in enumerate(texts):
                    batch = photos[number] if number < len(photos) else []
                    files = [
                        emu.attachment(f"p{number}-{i}.png", photo, "image/png")
                        for i, photo in enumerate(batch)
                    ]
                    await emu.inject_message(dm, "bob", text, attachments=files)
                    await emu.wait_for_message(
                        dm,
                        lambda m, t=text: m.content.startswith(f"echo: {t}"),
                        timeout=USER_DEADLINE_S,
                    )
                    answered += 1
                conversation = await bot.services.store.get_conversation(f"dm:{emu.user('bob').id}")
                assert conversation is not None
                stored = await bot.services.store.list_images(conversation.id)
            bodies = [r.body for r in rig.openai.requests if r.path == CHAT]
            unhandled = rig.watch.count
    return _figures(plan, photos, bodies, stored, answered, len(texts), unhandled)


def _figures(
    plan: ImagePlan,
    photos: list[list[bytes]],
    bodies: list[bytes],
    stored: list[Any],
    answered: int,
    turns: int,
    unhandled: int,
) -> dict[str, Any]:
    attached = [photo for batch in photos for photo in batch]
    distinct = set(attached)
    largest = max(bodies, key=len)
    last = json.loads(bodies[-1])
    return {
        "image_messages": len(photos),
        "text_turns": plan.text_turns,
        "images_attached": len(attached),
        "distinct_images": len(distinct),
        "attached_bytes": sum(len(p) for p in attached),
        "answered": answered,
        "turns": turns,
        "requests": len(bodies),
        "image_budget_bytes": BUDGET,
        "max_request_bytes": len(largest),
        "max_request_image_bytes": _image_bytes(json.loads(largest)),
        "text_only_request_bytes": len(bodies[-1]),
        "text_only_images_sent": _count(last, "image_url"),
        "text_only_images_noted": _count(last, NOT_RESENT) + _count(last, LEFT_OUT),
        "text_only_bytes_before_fix": sum(data_url_length("image/png", len(p)) for p in attached),
        "images_stored": len(stored),
        "stored_image_bytes": sum(image.size for image in stored),
        "unhandled_exceptions": unhandled,
    }


def _parts(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        part
        for message in request["messages"]
        if isinstance(message.get("content"), list)
        for part in message["content"]
    ]


def _image_bytes(request: dict[str, Any]) -> int:
    return sum(len(p["image_url"]["url"]) for p in _parts(request) if p["type"] == "image_url")


def _count(request: dict[str, Any], what: str) -> int:
    if what == "image_url":
        return sum(1 for part in _parts(request) if part["type"] == "image_url")
    return sum(1 for part in _parts(request) if part.get("text") == what)


def images_ok(figures: dict[str, Any]) -> bool:
    """The gate: every turn answered, every request within the budget, each image stored once."""
    return (
        figures["answered"] == figures["turns"]
        and figures["max_request_image_bytes"] <= figures["image_budget_bytes"]
        and figures["max_request_bytes"] <= figures["image_budget_bytes"] + TEXT_ALLOWANCE
        and figures["images_stored"] == figures["distinct_images"]
        and figures["text_only_images_sent"] + figures["text_only_images_noted"]
        == figures["images_attached"]
        and figures["unhandled_exceptions"] == 0
    )
