"""The real bundled MiniLM model (slow: loads weights). Run with `pytest -m slow tests/embed`."""

from __future__ import annotations

import numpy as np
import pytest

from recengine.config import EmbedSettings
from recengine.embed import load_encoder

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def encoder():
    return load_encoder(EmbedSettings(model="bundled:all-MiniLM-L6-v2", device="cpu"))


def test_earbuds_closer_to_headphones_than_to_garden_hose(encoder):
    vectors = encoder.encode(["wireless earbuds", "bluetooth headphones", "garden hose"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert encoder.fingerprint.startswith("all-MiniLM-L6-v2@")


def test_order_is_preserved_despite_length_sorting(encoder):
    texts = ["a much longer product description about a stainless steel kettle", "hose", "wireless earbuds"]
    together = encoder.encode(texts)
    alone = np.vstack([encoder.encode([text]) for text in texts])
    assert np.all(np.sum(together * alone, axis=1) > 0.99)


def test_reduced_precision_agrees_with_fp32(encoder):
    if encoder.precision == "fp32":
        pytest.skip("no reduced precision on this machine")
    reference = load_encoder(EmbedSettings(model="bundled:all-MiniLM-L6-v2", device="cpu", precision="fp32"))
    texts = [f"{adjective} {noun}" for adjective in ("red", "wireless", "steel", "garden", "running")
             for noun in ("shoes", "earbuds", "kettle", "hose", "lamp", "chair")]
    cosine = np.sum(encoder.encode(texts) * reference.encode(texts), axis=1)
    assert cosine.mean() > 0.99


def test_batches_on_one_thread_each_give_the_vectors_of_torchs_own_threading(encoder, monkeypatch):
    from recengine.embed import cpu_batches

    texts = [f"{adjective} {noun} that works {adverb}" for adjective in ("red", "wireless", "steel")
             for noun in ("shoes", "earbuds", "kettle", "hose") for adverb in ("well", "badly", "")] * 12
    together = encoder.encode(texts)  # batches of 64 on the cores side by side
    monkeypatch.setattr(cpu_batches.torch_intra_op_threads(), "workers", lambda: 1)
    one_by_one = encoder.encode(texts)
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)
