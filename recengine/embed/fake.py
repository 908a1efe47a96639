"""A deterministic hashing encoder: the same protocol as the real one, no model, no randomness.

Used by the test suite (setting `model = "fake"` or `"fake:DIM"`) so that everything built on embeddings
can be tested in milliseconds. Each word and each character trigram of a word is hashed (with hashlib, so
the result is identical in every process, unlike `hash()`) into one of `dimension` buckets with a sign;
the sum is L2-normalised. Texts that share words therefore share features and have a higher cosine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from recengine.progress import Progress

DEFAULT_DIMENSION = 64
_WORD = re.compile(r"\w+", re.UNICODE)
# Whole words weigh more than their trigrams: sharing a word should matter more than sharing a spelling.
_WORD_WEIGHT = 1.0
_TRIGRAM_WEIGHT = 0.35


def fake_fingerprint(dimension: int) -> str:
    return f"fake-hashing-v1-{dimension}"


@lru_cache(maxsize=200_000)
def _bucket(feature: str, dimension: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % dimension, 1.0 if (value >> 63) & 1 else -1.0


def _features(text: str) -> list[tuple[str, float]]:
    features: list[tuple[str, float]] = []
    for word in _WORD.findall(text.lower()):
        features.append((f"w:{word}", _WORD_WEIGHT))
        padded = f"#{word}#"
        features.extend((f"t:{padded[i:i + 3]}", _TRIGRAM_WEIGHT) for i in range(len(padded) - 2))
    return features or [("empty", 1.0)]


class HashingEncoder:
    """Deterministic bag-of-words-and-trigrams encoder implementing the `Encoder` protocol."""

    device = "cpu"
    precision = "fp32"
    model_name = "fake"

    def __init__(self, dimension: int = DEFAULT_DIMENSION) -> None:
        if dimension < 2:
            raise ValueError("the fake encoder needs at least 2 dimensions")
        self.dimension = dimension
        self.fingerprint = fake_fingerprint(dimension)

    def encode(self, texts: Sequence[str], *, progress: Progress | None = None) -> np.ndarray:
        """Return L2-normalised float32 vectors of shape (len(texts), dimension)."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        step = max(1, len(texts) // 20)
        for row, text in enumerate(texts):
            for feature, weight in _features(text):
                bucket, sign = _bucket(feature, self.dimension)
                vectors[row, bucket] += sign * weight
            if progress is not None and row % step == 0:
                progress(row / max(len(texts), 1), f"encoded {row:,} of {len(texts):,}")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        # A text whose features cancel exactly is vanishingly rare; give it a fixed unit vector.
        zero = norms[:, 0] == 0
        vectors[zero, 0] = 1.0
        norms[zero] = 1.0
        vectors /= norms
        if progress is not None:
            progress(1.0, f"encoded {len(texts):,}")
        return vectors
