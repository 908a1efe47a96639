"""Tuning a copy of the encoder for sentiment: when it is done, how batches are drawn, and the analysis
path with a tiny real SentenceTransformer (trained for two steps, so the test is fast)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from test_text_analysis import analysis_rows, contrast_reviews, rated_reviews
from text_fixtures import add_reviews

from recengine.embed import prune_embeddings, review_vectors
from recengine.embed.cache import cached_models
from recengine.errors import ModelError
from recengine.text.analysis import analyze_reviews
from recengine.text.sentiment_encoder import balanced_rows, side_by_side, tuning_decision
from recengine.text.sentiment_model_files import load_sentiment_model
from recengine.text.sentiment_stage import sentiment_vector_fingerprints
from recengine.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("setting", "f1", "reviews", "device", "trainable", "tune", "note"),
    [
        ("never", 0.5, 100, "cpu", True, False, ""),
        ("auto", 0.9, 100, "cpu", True, False, ""),  # good enough: nothing to gain
        ("auto", None, 100, "cpu", True, False, ""),  # no held-out figure to judge by
        ("auto", 0.7, 100, "cpu", True, True, ""),
        ("auto", 0.7, 50_000, "cpu", True, False, "always"),  # too many reviews to encode again on a CPU
        ("auto", 0.7, 50_000, "cuda", True, True, ""),
        ("always", 0.95, 50_000, "cpu", True, True, ""),
        ("always", 0.95, 100, "cpu", False, False, "test encoder"),
        ("auto", 0.7, 100, "cpu", False, False, "test encoder"),
    ],
)
def test_tuning_decision(setting, f1, reviews, device, trainable, tune, note) -> None:  # type: ignore[no-untyped-def]
    decided, said = tuning_decision(setting, f1, reviews, device, 20_000, trainable)
    assert decided is tune
    assert (note in said) if note else said == ""


def test_auto_does_not_tune_a_model_that_borrows_and_always_does() -> None:
    decided, said = tuning_decision("auto", 0.7, 100, "cuda", 20_000, True, borrowing=True)
    assert not decided and "borrows another shop's sentiment model" in said
    assert tuning_decision("auto", 0.9, 100, "cuda", 20_000, True, borrowing=True) == (False, "")  # good enough
    assert tuning_decision("always", 0.7, 100, "cuda", 20_000, True, borrowing=True) == (True, "")


def test_balanced_rows_give_every_label_an_equal_share() -> None:
    labels = ["positive"] * 90 + ["negative"] * 6 + ["neutral"] * 4
    rows = balanced_rows(labels, 960, seed=1)
    drawn = [labels[row] for row in rows]
    assert len(rows) == 960
    assert {label: drawn.count(label) for label in set(drawn)} == {"positive": 320, "negative": 320, "neutral": 320}
    assert set(rows[np.array(drawn) == "negative"]) == set(range(90, 96))  # every negative, drawn again and again
    assert drawn[:20] != sorted(drawn[:20])  # shuffled, so the trainer's batches mix the labels
    with pytest.raises(ModelError):
        balanced_rows(["positive"] * 10, 32, seed=0)


def test_the_fake_encoder_is_never_tuned_and_says_so_when_asked(make_workspace, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RECENGINE_TEXT__MIN_RATED_REVIEWS_FOR_MODEL", "50")
    monkeypatch.setenv("RECENGINE_TEXT__SENTIMENT_ENCODER_TUNING", "always")
    workspace = make_workspace(rated_reviews(150) + contrast_reviews())
    report = analyze_reviews(workspace)
    assert report.sentiment_method == "learned"
    assert "no weights to tune" in report.method_reason
    assert not (workspace.root / "models" / "sentiment-encoders").exists()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sys.path.insert(0, str(ROOT / "tests" / "train"))
    from train_fixtures import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny-st")


def test_a_tuned_encoder_is_trained_used_incrementally_and_dropped(make_workspace, monkeypatch, tiny_model, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RECENGINE_EMBED__MODEL", str(tiny_model))
    monkeypatch.setenv("RECENGINE_TEXT__MIN_RATED_REVIEWS_FOR_MODEL", "50")
    monkeypatch.setenv("RECENGINE_TEXT__SENTIMENT_ENCODER_TUNING", "always")
    monkeypatch.setenv("RECENGINE_TEXT__SENTIMENT_ENCODER_STEPS", "2")
    workspace = make_workspace(rated_reviews(150) + contrast_reviews())
    report = analyze_reviews(workspace)
    printed = capsys.readouterr()
    assert printed.out == ""  # stdout is where the CLI writes its results: no trainer logs there
    assert "widget" not in printed.err  # nor the model card's bar, which would also read training reviews
    assert report.sentiment_method == "learned" and report.model_retrained
    assert "tuned for sentiment" in report.method_reason and "plain encoder" in report.method_reason
    model = load_sentiment_model(workspace.root / "models" / "sentiment")
    assert model is not None
    folders = sorted((workspace.root / "models" / "sentiment-encoders").iterdir())
    assert [folder.name for folder in folders] == [model.extra["sentiment_encoder"]]
    assert (folders[0] / "config.json").exists() and not (folders[0] / "README.md").exists()
    runs = json.loads((workspace.root / "embeddings" / "last_run.json").read_text())
    # It reads the plain vectors (of each review and of its title) and the tuned copy's side by side.
    assert model.encoder_fingerprint == f"{model.extra['base_encoder']}+{runs['sentiment reviews']['fingerprint']}"
    assert model.dimension == 3 * review_vectors(workspace).vectors.shape[1]

    # A new review: no retraining, the tuned copy encodes just that review, and it gets a learned score.
    add_reviews(workspace, [("NEW1", "P1", None, None, "Awful battery, broke quickly.", "2024-06-01")])
    again = analyze_reviews(workspace)
    assert (again.analyzed, again.model_retrained) == (1, False)
    runs = json.loads((workspace.root / "embeddings" / "last_run.json").read_text())
    assert runs["sentiment reviews"]["encoded"] == 1
    assert analysis_rows(workspace)["NEW1"]["sentiment_method"] == "learned"

    # Pruning the embedding cache keeps the tuned copy's vectors when told to (as `embed --prune` is).
    tuned_fingerprint = model.extra["sentiment_encoder_fingerprint"]
    assert sentiment_vector_fingerprints(workspace) == {tuned_fingerprint}
    prune_embeddings(workspace, keep=sentiment_vector_fingerprints(workspace))
    assert tuned_fingerprint in cached_models(workspace.root / "embeddings")

    # Switched off: retrained on the plain vectors; the tuned copy and its cached vectors are deleted.
    monkeypatch.setenv("RECENGINE_TEXT__SENTIMENT_ENCODER_TUNING", "never")
    off = analyze_reviews(Workspace.open(workspace.root))  # settings are read when a workspace is opened
    assert off.model_retrained and "tuned" not in off.method_reason
    assert list((workspace.root / "models" / "sentiment-encoders").iterdir()) == []
    assert set(cached_models(workspace.root / "embeddings")) == {model.extra["base_encoder"]}
    assert sentiment_vector_fingerprints(workspace) == set()


def test_side_by_side_keeps_both_vectors_at_unit_length() -> None:
    rng = np.random.default_rng(0)
    plain, tuned = (rng.normal(size=(5, 4)) for _ in range(2))
    plain /= np.linalg.norm(plain, axis=1, keepdims=True)
    tuned /= np.linalg.norm(tuned, axis=1, keepdims=True)
    both = side_by_side(plain, tuned)
    assert both.shape == (5, 8) and both.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(both, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(both[:, :4] * np.sqrt(2), plain, rtol=1e-6)  # plain half first, unchanged in direction
    with pytest.raises(ModelError, match="plain vectors"):
        side_by_side(plain, tuned[:3])
