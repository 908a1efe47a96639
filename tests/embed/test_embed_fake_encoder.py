"""The fake hashing encoder: deterministic across processes, normalised, word overlap means closeness."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from recengine.config import EmbedSettings
from recengine.embed import Encoder, HashingEncoder, load_encoder, resolve_model
from recengine.errors import ModelError

TEXTS = ["wireless bluetooth headphones", "bluetooth wireless earbuds", "garden hose 50 ft", ""]


def test_shape_dtype_and_unit_norm():
    vectors = HashingEncoder().encode(TEXTS)
    assert vectors.shape == (4, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)


def test_shared_words_are_closer():
    vectors = HashingEncoder().encode(TEXTS[:3])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_deterministic_across_processes():
    code = (
        "from recengine.embed.fake import HashingEncoder; import sys;"
        "sys.stdout.write(HashingEncoder(16).encode(['wireless earbuds']).tobytes().hex())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout
    here = HashingEncoder(16).encode(["wireless earbuds"]).tobytes().hex()
    assert other == here


def test_settings_fake_and_dimension():
    encoder = load_encoder(EmbedSettings(model="fake:32"))
    assert isinstance(encoder, Encoder)
    assert encoder.dimension == 32 and encoder.fingerprint == "fake-hashing-v1-32"
    assert load_encoder(EmbedSettings(model="fake")).fingerprint == "fake-hashing-v1-64"
    assert load_encoder(EmbedSettings(model="fake:32")) is encoder  # cached per process
    with pytest.raises(ModelError, match="fake:DIM"):
        resolve_model("fake:one")


def test_progress_reaches_one():
    seen: list[float] = []
    HashingEncoder().encode(["a b"] * 50, progress=lambda fraction, _message: seen.append(fraction))
    assert seen[-1] == 1.0 and seen == sorted(seen)
