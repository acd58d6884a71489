"""Benchmark (issue 21): a 20-turn conversation that keeps working on one picture.

Turn 1 asks for a picture (``generate_image``); every even turn after it asks for a change
(``edit_image`` on "last", no upload); the odd turns are text questions about it. The image
emulator returns 1024x1024 PNGs: random pixels by default (about 3 MB, the worst case), or
smooth gradients with ``--smooth`` (a drawing-like result).

Figures: the chat request bodies (first request of each turn, the largest, the sum), what the
requests would weigh if every image were re-sent inline at full size, and the store's growth per
image: the downscaled copy the model sees plus the tool's full-size original, in the SQLite file.

Run by hand: ``python -m tests.bench.image_work [--smooth]`` (about 15 s on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

from PIL import Image

from bot.images import data_url_length
from bot.testing.openai import ImageReply, ToolCall
from tests.reliability.rig import USER_DEADLINE_S, open_rig, scratch_dir

TURNS = 20
SIDE = 1024
CHAT = "/v1/chat/completions"
TOOLS = {"modules": ["tools.images"]}


def noisy_png(seed: int) -> bytes:
    """A 1024x1024 PNG of random pixels (it does not compress: about 3 MB)."""
    pixels = random.Random(seed).randbytes(SIDE * SIDE * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (SIDE, SIDE), pixels).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def smooth_png(seed: int) -> bytes:
    """A 1024x1024 PNG of two crossing colour gradients (compresses like a drawing)."""
    shade = random.Random(seed).randrange(256)
    ramp = Image.linear_gradient("L").resize((SIDE, SIDE))
    across = ramp.rotate(90)
    image = Image.merge("RGB", (ramp, across, Image.new("L", (SIDE, SIDE), shade)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _script(rig: Any, picture: Any) -> list[bytes]:
    """Queue the model's and the image API's answers; returns the images the API will make."""
    made: list[bytes] = []
    chat = rig.openai.chat
    for turn in range(1, TURNS + 1):
        if turn == 1 or turn % 2 == 0:
            made.append(picture(turn))
            if turn == 1:
                rig.openai.images.reply(ImageReply(images=[made[-1]]))
                call = ToolCall(
                    "generate_image", {"prompt": "a fox", "size": None, "quality": None}
                )
            else:
                rig.openai.image_edits.reply(ImageReply(images=[made[-1]]))
                arguments = {"prompt": f"change {turn}", "use_mask": False, "images": ["last"]}
                call = ToolCall("edit_image", arguments)
            chat.reply_tool_calls([call])
        chat.reply_text(f"answer {turn}")
    return made


async def measure(smooth: bool = False) -> dict[str, Any]:
    """Run the conversation; returns the figures."""
    with scratch_dir("image-work") as workdir:
        async with open_rig(workdir) as rig:
            made = _script(rig, smooth_png if smooth else noisy_png)
            emu = rig.discord
            dm = emu.dm_channel("bob")
            overrides = {"openai": {"context_tokens": 128_000}}
            async with rig.harness.run(tools=TOOLS, **overrides):
                for turn in range(1, TURNS + 1):
                    await emu.inject_message(dm, "bob", f"turn {turn}")
                    await emu.wait_for_message(
                        dm, lambda m, t=turn: m.content == f"answer {t}", timeout=USER_DEADLINE_S
                    )
            requests = [r for r in rig.openai.requests if r.path == CHAT]
            edits = [r for r in rig.openai.requests if r.path == "/v1/images/edits"]
            store = _store_figures(workdir / "data")
    return _figures(requests, edits, made, store)


def _store_figures(data_dir: Path) -> dict[str, int]:
    (path,) = list(data_dir.rglob("*.db"))
    with sqlite3.connect(path) as db:
        count, shown, originals = db.execute(
            "SELECT COUNT(*), SUM(length(data)), SUM(COALESCE(length(original), 0)) FROM images"
        ).fetchone()
        turns_bytes = db.execute(
            "SELECT SUM(length(parts)) FROM turns WHERE parts != '[]'"
        ).fetchone()[0]
    return {
        "images_stored": int(count),
        "stored_model_copy_bytes": int(shown),
        "stored_original_bytes": int(originals),
        "stored_reference_bytes_in_turns": int(turns_bytes or 0),
        "store_file_bytes": path.stat().st_size,
    }


def _figures(
    requests: list[Any], edits: list[Any], made: list[bytes], store: dict[str, int]
) -> dict[str, Any]:
    sizes = [len(r.body) for r in requests]
    inline = sum(data_url_length("image/png", len(image)) for image in made)
    uploads_match = [e.files[0].data for e in edits] == made[:-1]
    images = store["images_stored"] or 1
    return {
        "turns": TURNS,
        "chat_requests": len(requests),
        "request_bytes_first_of_last_turn": sizes[-2] if len(sizes) > 1 else sizes[-1],
        "request_bytes_max": max(sizes),
        "request_bytes_total": sum(sizes),
        "request_bytes_mean": sum(sizes) // len(sizes),
        "all_images_inline_full_size_bytes": inline,
        "edits_sent_previous_result": uploads_match,
        **store,
        "store_growth_per_image_bytes": (
            store["stored_model_copy_bytes"] + store["stored_original_bytes"]
        )
        // images,
        "model_copy_per_image_bytes": store["stored_model_copy_bytes"] // images,
    }


def main() -> None:
    """Run and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smooth", action="store_true", help="drawing-like images, not noise")
    arguments = parser.parse_args()
    print(json.dumps(asyncio.run(measure(arguments.smooth)), indent=2))


if __name__ == "__main__":
    main()
