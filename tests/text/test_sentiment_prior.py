"""Borrowing another shop's sentiment model: it helps a shop with few negatives, it is saved with the model
and checked on load, and analysis retrains when the borrowed model changes or goes."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from test_text_analysis import contrast_reviews, rated_reviews
from text_fixtures import add_reviews

from recengine.cli import main as cli_main
from recengine.errors import ConfigError, ModelError
from recengine.text import save_sentiment_prior
from recengine.text.analysis import analyze_reviews
from recengine.text.sentiment_labels import method_scores
from recengine.text.sentiment_model import SentimentModel
from recengine.text.sentiment_model_files import load_sentiment_model, save_sentiment_model
from recengine.text.sentiment_prior import load_prior, nearby_workspaces_with_models, prior_model_folder
from recengine.text.sentiment_training import train_sentiment_model


def _shop(count: int, negative_every: int, seed: int, dimensions: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Reviews whose first dimension carries the polarity under noise; one in `negative_every` negative."""
    rng = np.random.default_rng(seed)
    stars = np.array([1.0 if index % negative_every == 0 else 5.0 for index in range(count)])
    signal = np.where(stars > 3, 1.0, -1.0) + rng.normal(size=count) * 0.6
    vectors = np.column_stack([signal * 0.5, rng.normal(size=(count, dimensions - 1)) * 0.5])
    return vectors.astype(np.float32), stars


def _train(vectors: np.ndarray, stars: np.ndarray, prior: SentimentModel | None = None) -> SentimentModel:
    return train_sentiment_model(vectors, stars, np.zeros(len(stars)), texts=[""] * len(stars),
                                 encoder_fingerprint="t", held_out_fraction=0.0, prior=prior)


def _polarity_f1(model: SentimentModel, vectors: np.ndarray, stars: np.ndarray) -> float:
    labels, scores = model.predict(vectors, np.zeros(len(stars)), texts=[""] * len(stars))
    return method_scores(stars, labels, scores).polarity_macro_f1


def test_a_borrowed_model_lifts_a_shop_with_three_negative_reviews() -> None:
    for seed in (0, 1):
        prior = _train(*_shop(400, 4, seed))  # the other shop: 100 negatives
        few = _shop(60, 20, seed + 10)  # this shop: 3 negatives to learn from
        test = _shop(200, 5, seed + 20)
        alone, borrowing = _train(*few), _train(*few, prior=prior)
        assert borrowing.prior is prior and borrowing.dimension == alone.dimension == 24
        assert _polarity_f1(borrowing, *test) >= _polarity_f1(alone, *test) + 0.03


def test_training_reads_each_review_through_the_borrowed_model_once(monkeypatch: pytest.MonkeyPatch) -> None:
    prior = _train(*_shop(200, 4, 0))
    vectors, stars = _shop(120, 5, 1)
    read: list[int] = []
    inputs = SentimentModel.inputs

    def counting_inputs(self, rows, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self is prior:
            read.append(len(rows))
        return inputs(self, rows, *args, **kwargs)

    monkeypatch.setattr(SentimentModel, "inputs", counting_inputs)
    model = train_sentiment_model(vectors, stars, np.zeros(len(stars)), texts=[""] * len(stars),
                                  encoder_fingerprint="t", prior=prior)
    # Once for all reviews: the feature and the held-out "borrowed alone" score share it.
    assert read == [len(stars)]
    assert model.quality is not None and model.quality.borrowed is not None


def test_a_model_for_another_encoder_cannot_be_borrowed() -> None:
    prior = _train(*_shop(100, 4, 0, dimensions=8))
    with pytest.raises(ModelError, match="same encoder"):
        _train(*_shop(100, 4, 1), prior=prior)
    assert load_prior(Path("."), "", "t") == (None, "")


def test_the_borrowed_model_is_saved_inside_the_model_and_checked_on_load(tmp_path: Path) -> None:
    prior = _train(*_shop(200, 4, 0))
    model = _train(*_shop(100, 5, 1), prior=prior)
    save_sentiment_model(model, tmp_path / "m")
    loaded = load_sentiment_model(tmp_path / "m")
    assert loaded is not None and loaded.prior is not None
    assert loaded.fingerprint() == model.fingerprint() and loaded.prior.fingerprint() == prior.fingerprint()
    test_vectors, test_stars = _shop(50, 5, 2)
    assert _polarity_f1(loaded, test_vectors, test_stars) == _polarity_f1(model, test_vectors, test_stars)
    # Retrained with another borrowed model: the old copy goes once the new JSON names the new one.
    other = _train(*_shop(200, 4, 3))
    save_sentiment_model(_train(*_shop(100, 5, 1), prior=other), tmp_path / "m")
    assert [path.name for path in (tmp_path / "m").glob("prior-*")] == [f"prior-{other.fingerprint()}"]
    # A changed copy is refused as damaged (retrained), never used silently.
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    shutil.rmtree(tmp_path / "m" / meta["prior"]["folder"])
    save_sentiment_model(prior, tmp_path / "m" / meta["prior"]["folder"])
    with pytest.raises(ModelError, match="borrowed model"):
        load_sentiment_model(tmp_path / "m")


def _analysed_shop(make_workspace, name: str, count: int):  # type: ignore[no-untyped-def]
    workspace = make_workspace(rated_reviews(count) + contrast_reviews(), name=name)
    analyze_reviews(workspace)
    return workspace


def test_analysis_borrows_the_model_of_another_workspace_three_ways(make_workspace, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RECENGINE_TEXT__MIN_RATED_REVIEWS_FOR_MODEL", "50")
    other = _analysed_shop(make_workspace, "other", 200)
    here = _analysed_shop(make_workspace, "here", 120)
    assert prior_model_folder(other.root) == (other.root / "models" / "sentiment").resolve()
    assert nearby_workspaces_with_models(here) == [other.root.resolve()]  # offered on the Fine-tuning page
    assert nearby_workspaces_with_models(other) == [here.root.resolve()]
    with pytest.raises(ConfigError, match="own sentiment model"):
        save_sentiment_prior(here, here.root)
    with pytest.raises(ConfigError, match="No sentiment model"):
        save_sentiment_prior(here, here.root / "nothing")
    assert here.settings.text.sentiment_prior == ""  # nothing saved by a refused call

    # Command line: saves the setting, retrains with the borrowed model, says so.
    assert cli_main(["analyze", "--workspace", str(here.root), "--sentiment-prior", str(other.root),
                     "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model_retrained"] and "borrowed from" in report["method_reason"]
    # Staff see how the borrowed model alone does on the same held-out reviews, next to the learned model.
    assert report["quality"]["borrowed"]["reviews"] == report["quality"]["held_out_reviews"]
    from recengine.text.status import analysis_status
    from ui.insights import quality_frame

    status = asdict(analysis_status(type(here).open(here.root)))
    # Saved relative to this workspace: the other shop is next to it.
    assert status["borrowed_from"] == str(Path("..") / "other" / "models" / "sentiment")
    assert status["borrowed_polarity_macro_f1"] == report["quality"]["borrowed"]["polarity_macro_f1"]
    methods = quality_frame(status)["method"].tolist()
    assert methods[0] == "learned (encoder + a borrowed model + logistic regression)"
    assert "the borrowed model alone (no training here)" in methods
    here = type(here).open(here.root)
    model = load_sentiment_model(here.root / "models" / "sentiment")
    assert model is not None and model.prior is not None
    assert model.extra["sentiment_prior"] == model.prior.fingerprint()
    # Unchanged: no retraining. The other shop retrains on more reviews: so does this one (its verdicts changed).
    assert not analyze_reviews(here).model_retrained
    # The two shops copied together to another folder: the copy still borrows, with nothing to retrain.
    moved = type(here).open(Path(shutil.copytree(here.root.parent, here.root.parent.parent / "moved")) / "here")
    again = analyze_reviews(moved)
    assert not again.model_retrained and "was not used" not in again.method_reason
    add_reviews(other, [(f"X{index}", "P1", 1 + index % 2, None, "It broke at once, useless.", "2024-07-01")
                        for index in range(6)])
    analyze_reviews(other, force=True)
    assert analyze_reviews(here).model_retrained
    # The other shop's model gone: this one retrains on its own reviews and says why.
    shutil.rmtree(other.root / "models" / "sentiment")
    gone = analyze_reviews(here)
    assert gone.model_retrained and "was not used" in gone.method_reason
    assert load_sentiment_model(here.root / "models" / "sentiment").prior is None  # type: ignore[union-attr]
    # Python: borrowing nothing.
    save_sentiment_prior(here, None)
    assert here.settings.text.sentiment_prior == ""
