"""``POST /v1/embeddings``: deterministic unit vectors in which similar texts are similar.

A text becomes a hashed bag of words: each lower-case word (two letters or more) adds +1 or -1
to one of the dimensions, both picked by the word's SHA-256, and the sum is scaled to unit
length. Texts sharing words point the same way (cosine similarity grows with shared words), like
real embeddings do for near-duplicates. A token list, or a text without words, gets a
pseudo-random unit vector seeded by its hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import struct
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

from aiohttp import web

from .. import tokens
from ..replies import EmbeddingReply
from ..script import EmbeddingScript
from ..state import EmulatorState
from .common import before_response, receive_json, respond_json

DIMENSIONS = MappingProxyType({"text-embedding-3-large": 3072})
DEFAULT_DIMENSIONS = 1536


async def embeddings(
    state: EmulatorState, script: EmbeddingScript, request: web.Request
) -> web.Response:
    """Answer ``embeddings.create`` (float or base64 encoding)."""
    body = await receive_json(state, request, "CreateEmbeddingRequest")
    step = await script.next_step(body, pause=state.pause)
    model = str(body.get("model"))
    await before_response(state, request, step.fault, model, stream=False)
    reply = step.reply if isinstance(step.reply, EmbeddingReply) else None
    latency = reply.latency if reply is not None and reply.latency is not None else script.latency
    await state.pause(latency)
    if reply is not None:
        vectors = [list(vector) for vector in reply.vectors]
    else:
        dimensions = body.get("dimensions") or DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
        vectors = [hash_vector(item, dimensions) for item in _items(body.get("input"))]
    prompt_tokens = tokens.input_tokens(body.get("input"))
    data: dict[str, Any] = {
        "object": "list",
        "model": model,
        "data": [
            {"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)
        ],
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
    state.check_response(request, "CreateEmbeddingResponse", data)
    if body.get("encoding_format") == "base64":
        for entry in data["data"]:
            entry["embedding"] = _base64_floats(entry["embedding"])
    return respond_json(
        state, request, data, "CreateEmbeddingResponse", fault=step.fault, checked=True
    )


def _items(value: Any) -> list[Any]:
    """Split an ``input`` into its items: a string, a token list, or a list of either."""
    if isinstance(value, list) and value and not all(isinstance(item, int) for item in value):
        return value
    return [value]


def hash_vector(item: Any, dimensions: int) -> list[float]:
    """Return a unit vector of ``dimensions`` floats that depends only on ``item``."""
    words = _WORD.findall(item.lower()) if isinstance(item, str) else []
    if words:
        return _bag_of_words(words, dimensions)
    seed = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).digest()
    generator = random.Random(seed)
    raw = [generator.uniform(-1.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


_WORD = re.compile(r"[^\W_]{2,}")


def _bag_of_words(words: Sequence[str], dimensions: int) -> list[float]:
    raw = [0.0] * dimensions
    for word in words:
        digest = hashlib.sha256(word.encode()).digest()
        index = int.from_bytes(digest[:4], "big") % dimensions
        raw[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def _base64_floats(vector: Sequence[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
