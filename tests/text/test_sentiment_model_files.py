"""The stored sentiment model's format: a folder written the way model format 5 is written (by hand here,
key by key) loads and predicts what it predicted when it was saved, and saving writes those same keys."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from recengine.text.sentiment_features import text_features
from recengine.text.sentiment_model_files import load_sentiment_model, save_sentiment_model

# What every format-5 model.json holds besides the model's own figures (as written since format 5).
FORMAT_5_RECORD = {
    "format": 5,
    "features": "encoder vectors (review, then title: with_title_vectors), then lexicon score x "
    "LEXICON_FEATURE_WEIGHT, then (with a prior) the borrowed model's tanh(margin / 2) x PRIOR_FEATURE_WEIGHT "
    "(polarity model: then the lexical model's margin x TEXT_MARGIN_WEIGHT)",
    "lexicon_feature_weight": 2.0,
    "text_features": {
        "analyzer": "word", "ngram_range": [1, 2], "token_pattern": r"(?u)\b\w+\b", "lowercase": True,
        "n_features": 131072, "alternate_sign": False, "tf": "1 + log(count)", "norm": "l2",
    },
    "text_margin_weight": 1.0,
    "prior_feature_weight": 0.5,
}
SCORES = {"accuracy": 0.8, "macro_f1": 0.7, "polarity_macro_f1": 0.9, "reviews": 20, "polarity_reviews": 16}


def _text_coefficients(weights: dict[str, float]) -> np.ndarray:
    """Lexical-model coefficients with `weights` on the hashed columns of single words, 0 elsewhere."""
    coefficients = np.zeros(2**17)
    for word, weight in weights.items():
        coefficients[text_features([word]).indices] = weight
    return coefficients


def _write_model(folder: Path, arrays: dict[str, np.ndarray], figures: dict[str, object]) -> None:
    """A model folder as format 5 lays it out: weights.npz, then model.json naming its checksum."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "weights.npz", "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    checksum = hashlib.sha256((folder / "weights.npz").read_bytes()).hexdigest()
    meta = {**FORMAT_5_RECORD, **figures, "weights_sha256": checksum}
    (folder / "model.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")


def _model_figures(**figures: object) -> dict[str, object]:
    base = {
        "text_model": True, "classes": ["negative", "neutral", "positive"], "encoder_fingerprint": "enc@1",
        "dimension": 2, "polarity_model": True, "quality": None, "extra": {}, "prior": None,
    }
    return {**base, **figures}


def _saved_folder(root: Path) -> Path:
    """A model with a borrowed one, both with their lexical and polarity models, written as format 5."""
    prior_folder = root / "m" / "prior-a61eaa365bae3bcd"
    _write_model(
        prior_folder,
        {
            "coefficients": np.array([[-1.0, 0.5, -0.8], [0.1, -0.2, 0.0], [0.9, -0.3, 0.8]]),
            "intercepts": np.array([0.1, -0.2, 0.1]),
            "polarity_coefficients": np.array([1.5, -0.5, 0.7, 0.9]),
            "text_coefficients": _text_coefficients({"returned": -1.5, "love": 1.25}),
        },
        _model_figures(
            text_intercept=0.125, trained_on=10, rated_reviews=12, trained_at="2026-01-01T00:00:00+00:00",
            polarity_intercept=0.25, polarity_threshold=-0.5,
        ),
    )
    _write_model(
        root / "m",
        {
            "coefficients": np.array([[-1.2, 0.4, -0.6, -0.9], [0.2, -0.1, 0.05, 0.0], [1.0, -0.3, 0.6, 0.9]]),
            "intercepts": np.array([0.0, -0.1, 0.1]),
            "polarity_coefficients": np.array([1.1, -0.4, 0.5, 0.8, 0.6]),
            "text_coefficients": _text_coefficients({"work": -0.75, "returned": -1.0, "love": 0.5}),
        },
        _model_figures(
            text_intercept=-0.25, trained_on=100, rated_reviews=100, trained_at="2026-01-02T00:00:00+00:00",
            polarity_intercept=-0.125, polarity_threshold=0.375,
            quality={
                "learned": SCORES, "lexicon": SCORES, "train_reviews": 80, "held_out_reviews": 20,
                "borrowed": SCORES,
            },
            extra={"encoder_tuning": "never"},
            prior={"folder": prior_folder.name, "fingerprint": "a61eaa365bae3bcd"},
        ),
    )
    return root / "m"


VECTORS = np.array([[1.0, 0.0], [-1.0, 0.5], [0.1, 0.1], [0.0, -2.0]])
LEXICON = [0.5, -0.6, 0.0, 0.2]
TEXTS = ["love it", "didn't work, returned it", "", "returned it"]


def test_a_format_5_model_saved_before_loads_and_predicts_the_same(tmp_path: Path) -> None:
    model = load_sentiment_model(_saved_folder(tmp_path))
    assert model is not None and model.prior is not None
    # The weights' hashes: the borrowed model's is the one its folder is named by (checked on load).
    assert (model.fingerprint(), model.prior.fingerprint()) == ("cfaeef66a7a043f3", "a61eaa365bae3bcd")
    assert model.dimension == 2 and model.trained_on == 100 and model.extra == {"encoder_tuning": "never"}
    assert model.quality is not None and model.quality.borrowed is not None
    assert model.quality.learned.polarity_macro_f1 == 0.9 and model.quality.held_out_reviews == 20
    labels, scores = model.predict(VECTORS, LEXICON, texts=TEXTS)
    # Figures of the model as it was saved (sentiment.py before it was split by concern).
    assert labels == ["positive", "negative", "negative", "positive"]
    np.testing.assert_allclose(
        scores, [0.5599356170228433, -0.8748370997175301, -0.1399021476216005, 0.09124631494247709], rtol=1e-12
    )


def test_saving_writes_the_format_5_files(tmp_path: Path) -> None:
    model = load_sentiment_model(_saved_folder(tmp_path))
    assert model is not None
    save_sentiment_model(model, tmp_path / "again")
    assert sorted(path.name for path in (tmp_path / "again").iterdir()) == [
        "model.json", "prior-a61eaa365bae3bcd", "weights.npz",
    ]
    written = json.loads((tmp_path / "again" / "model.json").read_text(encoding="utf-8"))
    original = json.loads((tmp_path / "m" / "model.json").read_text(encoding="utf-8"))
    assert set(written) == set(original)
    assert {key: written[key] for key in original if key != "weights_sha256"} == {
        key: value for key, value in original.items() if key != "weights_sha256"
    }
    with np.load(tmp_path / "again" / "weights.npz", allow_pickle=False) as arrays:
        assert sorted(arrays.files) == ["coefficients", "intercepts", "polarity_coefficients", "text_coefficients"]
    reloaded = load_sentiment_model(tmp_path / "again")
    assert reloaded is not None and reloaded.fingerprint() == model.fingerprint()
