"""Exact vector search over float32 embeddings and reciprocal-rank fusion.

The embedded store keeps each chunk's embedding as little-endian float32 bytes. Search loads a
guild's vectors once into a normalised matrix (cached until the guild's chunks change) and ranks
by cosine similarity with one matrix-vector product: exact, no extension needed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

RRF_K = 60
"""The constant of reciprocal-rank fusion (Cormack et al.): score = sum of 1 / (k + rank)."""

Matrix = npt.NDArray[np.float32]


def pack(vector: Sequence[float]) -> bytes:
    """``vector`` as little-endian float32 bytes (how embeddings are stored)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def unpack(data: bytes) -> Matrix:
    """Stored float32 bytes back as a vector."""
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


def normalised(rows: Matrix) -> Matrix:
    """Each row scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


@dataclass
class GuildVectors:
    """A guild's chunk ids and normalised embeddings, valid for one (count, newest id) mark."""

    mark: tuple[int, int]
    ids: npt.NDArray[np.int64]
    matrix: Matrix = field(repr=False)

    @classmethod
    def build(cls, mark: tuple[int, int], rows: Sequence[tuple[int, bytes]]) -> GuildVectors:
        """From ``(chunk id, embedding bytes)`` rows. Only rows of the most common dimension are
        kept (after a change of embedding model, sources added before it are found by full text
        only until they are added again)."""
        ids = [row[0] for row in rows]
        vectors = [unpack(row[1]) for row in rows]
        widths = Counter(len(vector) for vector in vectors).most_common(1)
        width = widths[0][0] if widths else 0
        keep = [i for i, vector in enumerate(vectors) if len(vector) == width]
        matrix = (
            np.vstack([vectors[i] for i in keep])
            if keep
            else np.zeros((0, width), dtype=np.float32)
        )
        return cls(mark, np.asarray([ids[i] for i in keep], dtype=np.int64), normalised(matrix))

    def nearest(self, query: Sequence[float], limit: int) -> list[int]:
        """The ids of the ``limit`` chunks most similar to ``query`` (best first)."""
        vector = np.asarray(query, dtype=np.float32)
        if not len(self.ids) or vector.shape[0] != self.matrix.shape[1]:
            return []
        scores = self.matrix @ normalised(vector)
        count = min(limit, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        ordered = top[np.argsort(-scores[top], kind="stable")]
        return [int(self.ids[i]) for i in ordered]


def fuse(rankings: Sequence[Sequence[int]], limit: int) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion of several best-first id lists: ``(id, score)``, best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (RRF_K + rank)
    ordered = sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))
    return ordered[:limit]
