"""Token counting that works without a network, calibrated by the usage the server reports.

Counting uses the ``bpe-openai`` package: a Rust BPE tokenizer whose wheel ships OpenAI's
``o200k_base`` and ``cl100k_base`` tables, so nothing is downloaded at run time (``tiktoken``
downloads its tables on first use). Its counts are exact for text. Where it cannot be imported
(an unusual platform) an estimate is used that over-counts (see ``_PieceEstimate``).

Chat framing, images and tool definitions are estimated the way OpenAI documents them (a few
tokens per message; an image by its pixel size and the model's scheme, see ``image_cost``; a
fixed cost for an image linked by URL, whose size is not known). ``observe`` then moves a
per-model factor towards what the server really charged, within bounds, so estimates track each
model's real framing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from bot.images import decode_data_url, probe
from bot.shims.bpe_internals import bpe_counter
from bot.store.image_cost import image_tokens

MESSAGE_OVERHEAD = 3
NAME_OVERHEAD = 1
REPLY_PRIMING = 3
TOOLS_OVERHEAD = 12
TOOL_COUNT_CACHE = 64
# Windows re-send the same history every turn: short texts' counts are remembered (bounded).
COUNT_CACHE_ENTRIES = 4096
COUNT_CACHE_MAX_CHARS = 2048
DEFAULT_IMAGE_TOKENS = 765
# How much of a data URL is decoded to find an image's pixel size: a few KB usually hold the
# header; a JPEG's EXIF block (at most 64 KB) may come before its size.
IMAGE_HEADER_CHARS = (4 * 1024, 96 * 1024)
LOW_DETAIL_IMAGE_TOKENS = 85
MIN_OBSERVED_TOKENS = 32
_PIECES = re.compile(r"[^\W\d_]+|\d+|\s+|.", re.DOTALL)
_CL100K_PREFIXES = ("gpt-4", "gpt-3.5", "text-embedding-3", "text-embedding-ada")
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-")


class _Encoder(Protocol):
    def count(self, text: str) -> int: ...


class _PieceEstimate:
    """Fallback that over-counts: pieces like BPE's pre-tokenizer, each priced generously.

    ASCII words cost a token per 4 bytes, other words one per 2 bytes, digits one per 3,
    symbols one per 2 bytes, whitespace runs one; never less than one token per 3 bytes.
    """

    def count(self, text: str) -> int:
        total = 0
        for match in _PIECES.finditer(text):
            total += _piece_cost(match.group())
        return max(total, math.ceil(len(text.encode("utf-8", "replace")) / 3))


def _count(encoder: _Encoder, text: str) -> int:
    try:
        return encoder.count(text)
    except UnicodeEncodeError:  # lone surrogates: count what the API would receive
        return encoder.count(text.encode("utf-8", "replace").decode("utf-8"))


def _piece_cost(piece: str) -> int:
    if piece[0].isspace():
        return 1 if len(piece) > 1 else 0
    if piece[0].isdigit():
        return math.ceil(len(piece) / 3)
    size = len(piece.encode("utf-8", "replace"))
    if piece[0].isalpha():
        return math.ceil(size / (4 if piece.isascii() else 2))
    return math.ceil(size / 2)


def encoding_for_model(model: str) -> str:
    """The BPE table a model uses: ``o200k_base`` for current models, else ``cl100k_base``."""
    name = model.lower().split("/")[-1]
    if name.startswith(_O200K_PREFIXES):
        return "o200k_base"
    if name.startswith(_CL100K_PREFIXES):
        return "cl100k_base"
    return "o200k_base"


def _data_url_size(url: str) -> tuple[int, int] | None:
    """Pixel size of the image in a base64 data URL, read from its header only."""
    if not url.startswith("data:"):
        return None
    comma = url.find(",")
    for length in IMAGE_HEADER_CHARS:  # most headers are in the first few KB
        decoded = decode_data_url(url[: comma + 1 + length])
        described = probe(decoded[1]) if decoded else None
        if described is not None:
            return described[1], described[2]
        if comma + 1 + length >= len(url):
            break
    return None


class TokenCounter:
    """Counts tokens of text and chat messages; one instance per bot, shared.

    Args:
        model: The model assumed when a call names none.
        image_tokens: Cost assumed for an image whose pixel size is unknown (a linked URL).
        factor_bounds: Lowest and highest calibration factor ``observe`` may set.
        smoothing: Weight of one observation in the factor's moving average (0-1].
        exact: ``False`` forces the over-counting estimate (tests of the fallback).
    """

    def __init__(
        self,
        model: str = "gpt-4o-mini",
        *,
        image_tokens: int = DEFAULT_IMAGE_TOKENS,
        factor_bounds: tuple[float, float] = (0.5, 2.0),
        smoothing: float = 0.2,
        exact: bool = True,
    ) -> None:
        if not 0 < smoothing <= 1:
            raise ValueError("smoothing must be in (0, 1]")
        low, high = factor_bounds
        if not 0 < low <= 1 <= high:
            raise ValueError("factor_bounds must satisfy 0 < low <= 1 <= high")
        self.model = model
        self.image_tokens = image_tokens
        self._bounds = (low, high)
        self._smoothing = smoothing
        self._want_exact = exact
        self._encoders: dict[str, _Encoder] = {}
        self._encoders_by_model: dict[str | None, _Encoder] = {}
        self._counts: dict[tuple[int, str], int] = {}
        self._factors: dict[str, float] = {}
        # The same tool definitions go with every request: count each set once.
        self._tool_counts: dict[tuple[str, str], int] = {}

    # -- text -------------------------------------------------------------------------------

    def is_exact(self, model: str | None = None) -> bool:
        """Whether text counts for ``model`` come from the real BPE tables."""
        return not isinstance(self._encoder(model), _PieceEstimate)

    def count_text(self, text: str, model: str | None = None) -> int:
        """Tokens of plain text (no chat framing)."""
        if not text:
            return 0
        encoder = self._encoder(model)
        if len(text) > COUNT_CACHE_MAX_CHARS:
            return _count(encoder, text)
        key = (id(encoder), text)  # encoders live as long as this counter
        count = self._counts.get(key)
        if count is None:
            if len(self._counts) >= COUNT_CACHE_ENTRIES:
                self._counts.clear()
            count = self._counts[key] = _count(encoder, text)
        return count

    def truncate(self, text: str, max_tokens: int, model: str | None = None) -> str:
        """The longest prefix of ``text`` that counts at most ``max_tokens`` tokens."""
        if self.count_text(text, model) <= max_tokens:
            return text
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.count_text(text[:middle], model) <= max_tokens:
                low = middle
            else:
                high = middle - 1
        return text[:low]

    # -- chat messages ----------------------------------------------------------------------

    def count_message(self, message: Mapping[str, Any], model: str | None = None) -> int:
        """Raw tokens of one chat message dict, framing included (not calibrated)."""
        total = MESSAGE_OVERHEAD + self.count_text(str(message.get("role", "")), model)
        if message.get("name"):
            total += NAME_OVERHEAD + self.count_text(str(message["name"]), model)
        total += self._count_content(message.get("content"), model)
        for call in message.get("tool_calls") or ():
            function = call.get("function", {})
            total += MESSAGE_OVERHEAD
            total += self.count_text(str(function.get("name", "")), model)
            total += self.count_text(str(function.get("arguments", "")), model)
        if message.get("tool_call_id"):
            total += self.count_text(str(message["tool_call_id"]), model)
        reasoning = message.get("_reasoning")  # reasoning items kept with an assistant message
        if reasoning:
            text = json.dumps(reasoning.get("items"), separators=(",", ":"), ensure_ascii=False)
            total += self.count_text(text, model)
        return total

    def count_messages(
        self, messages: Iterable[Mapping[str, Any]], model: str | None = None
    ) -> int:
        """Raw tokens of a whole request's messages, reply priming included."""
        return REPLY_PRIMING + sum(self.count_message(message, model) for message in messages)

    def count_tools(self, tools: Sequence[Mapping[str, Any]], model: str | None = None) -> int:
        """Raw tokens the tool definitions of a request add (an estimate)."""
        if not tools:
            return 0
        text = json.dumps(list(tools), separators=(",", ":"), ensure_ascii=False)
        key = (encoding_for_model(model or self.model), text)
        count = self._tool_counts.get(key)
        if count is None:
            if len(self._tool_counts) >= TOOL_COUNT_CACHE:
                self._tool_counts.clear()
            count = self._tool_counts[key] = TOOLS_OVERHEAD + self.count_text(text, model)
        return count

    def estimate_answer(
        self,
        raw_prompt_tokens: int,
        new_messages: Sequence[Mapping[str, Any]],
        reasoning: str = "",
        model: str | None = None,
    ) -> tuple[int, int]:
        """Calibrated ``(prompt, completion)`` tokens of an answer the server reported no usage for.

        Each assistant message of ``new_messages`` is one model round: its prompt is the first
        request (``raw_prompt_tokens``, raw) plus what the answer added before it, its completion
        the message itself; the hidden ``reasoning`` counts as completion too.
        """
        prompt = completion = added = 0
        for message in new_messages:
            tokens = self.count_message(message, model)
            if message.get("role") == "assistant":
                prompt += raw_prompt_tokens + added
                completion += tokens
            added += tokens
        completion += self.count_text(reasoning, model)
        return self.scale(prompt, model), self.scale(completion, model)

    # -- calibration ------------------------------------------------------------------------

    def factor(self, model: str | None = None) -> float:
        """The calibration factor for ``model`` (1.0 until something was observed)."""
        return self._factors.get(model or self.model, 1.0)

    def scale(self, raw_tokens: int, model: str | None = None) -> int:
        """Calibrated estimate of what ``raw_tokens`` raw tokens will be charged as."""
        return math.ceil(raw_tokens * self.factor(model))

    def raw_budget(self, budget_tokens: int, model: str | None = None) -> int:
        """How many raw tokens fit in a budget of calibrated tokens."""
        return math.floor(budget_tokens / self.factor(model))

    def observe(
        self,
        estimated_prompt_tokens: int,
        reported_prompt_tokens: int,
        model: str | None = None,
    ) -> float:
        """Move ``model``'s factor towards ``reported / estimated`` and return the new factor.

        Args:
            estimated_prompt_tokens: The RAW count of the request (``count_messages`` of its
                messages plus ``count_tools`` of its tools), not a scaled one.
            reported_prompt_tokens: ``usage.prompt_tokens`` the server reported for it.
            model: The model the request went to.
        """
        key = model or self.model
        current = self._factors.get(key, 1.0)
        if estimated_prompt_tokens < MIN_OBSERVED_TOKENS or reported_prompt_tokens <= 0:
            return current
        ratio = reported_prompt_tokens / estimated_prompt_tokens
        low, high = self._bounds
        updated = min(high, max(low, current + self._smoothing * (ratio - current)))
        self._factors[key] = updated
        return updated

    # -- internals --------------------------------------------------------------------------

    def _count_content(self, content: Any, model: str | None) -> int:
        if content is None:
            return 0
        if isinstance(content, str):
            return self.count_text(content, model)
        total = 0
        for part in content:
            total += self._count_part(part, model)
        return total

    def _count_part(self, part: Mapping[str, Any], model: str | None) -> int:
        kind = part.get("type")
        if kind == "text":
            return self.count_text(str(part.get("text", "")), model)
        if kind == "image_ref":
            width, height = int(part.get("width") or 0), int(part.get("height") or 0)
            return image_tokens(width, height, model or self.model, part.get("detail"))
        if kind == "image_url":
            image_url = part.get("image_url") or {}
            detail = image_url.get("detail")
            size = _data_url_size(str(image_url.get("url", "")))
            if size is not None:
                return image_tokens(*size, model or self.model, detail)
            return LOW_DETAIL_IMAGE_TOKENS if detail == "low" else self.image_tokens
        return self.count_text(json.dumps(part, ensure_ascii=False), model)

    def _encoder(self, model: str | None) -> _Encoder:
        encoder = self._encoders_by_model.get(model)
        if encoder is None:
            encoder = self._encoders_by_model[model] = self._encoder_for(model)
        return encoder

    def _encoder_for(self, model: str | None) -> _Encoder:
        encoding = encoding_for_model(model or self.model)
        encoder = self._encoders.get(encoding)
        if encoder is None:
            loaded = bpe_counter(encoding) if self._want_exact else None
            encoder = loaded if loaded is not None else _PieceEstimate()
            self._encoders[encoding] = encoder
        return encoder
