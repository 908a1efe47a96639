"""Training the learned sentiment model on the workspace's rated reviews; its quality next to the lexicon's.

Logistic regressions trained on the reviews that carry stars, classes balanced (sentiment_model says what
each of the three decides). The lexical model's margin enters the polarity model out-of-fold while training
(stacking), and the polarity decision threshold is chosen by cross-validation on the training reviews only.
A stratified share of the rated reviews is held out for the quality figures (the learned model next to
the lexicon on the same reviews); the served model is then refitted on all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from recengine.errors import ModelError
from recengine.text.sentiment_features import (
    model_features,
    polarity_features,
    prior_feature_of,
    text_features,
)
from recengine.text.sentiment_labels import ModelQuality, method_scores, score_label, star_label
from recengine.text.sentiment_model import SentimentModel

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from scipy.sparse import csr_matrix

HELD_OUT_FRACTION = 0.2  # rated reviews held out (stratified) for the quality figures


def train_sentiment_model(
    vectors: np.ndarray,
    stars: Sequence[float],
    lexicon_scores: Sequence[float],
    *,
    texts: Sequence[str],
    encoder_fingerprint: str,
    held_out_fraction: float = HELD_OUT_FRACTION,
    seed: int = 0,
    tune_threshold: bool = True,
    prior: SentimentModel | None = None,
) -> SentimentModel:
    """Train the learned model on rated reviews and measure it against the lexicon on held-out ones.

    Args:
        vectors: encoder vectors of the rated reviews (n, dim).
        stars: their ratings, 1..5.
        lexicon_scores: the lexicon's scores of the same reviews: one input of the model, and the
            baseline of the side-by-side comparison.
        texts: the analysed texts of the same reviews ("title. body"), for the lexical channel.
        encoder_fingerprint: the encoder that made the vectors; the model is only valid with it.
        held_out_fraction: share of reviews held out for the quality figures (stratified); 0 skips
            the held-out experiment (quality None), for callers that evaluate on their own split.
        seed: split and solver seed, so re-runs give the same model.
        tune_threshold: choose the polarity threshold by cross-validation on the training reviews
            (False keeps 0, the class-balanced model's own boundary; for comparisons).
        prior: a model trained on another shop's reviews with the same encoder: its verdict becomes one
            more input, so a shop with few negative reviews starts from what another learned.

    Returns:
        A model refitted on all rated reviews, carrying the held-out quality of a model fitted on the
        training part only (its threshold, too, chosen on that training part only).
    """
    stars_array = np.asarray(stars, dtype=np.float64)
    truth = np.array([star_label(star) for star in stars_array])
    present = sorted(set(truth.tolist()))
    if len(present) < 2:
        raise ModelError(
            f"All {len(truth)} rated reviews have the same sentiment ({present[0] if present else 'none'}); "
            "a classifier needs at least two.",
            hint="Ingest reviews with a range of star ratings.",
        )
    lexicon_array = np.asarray(lexicon_scores, dtype=np.float64)
    if len(texts) != len(truth):
        raise ModelError(f"{len(truth)} rated reviews but {len(texts)} texts.")
    text_list = list(texts)
    features = model_features(vectors, lexicon_array)
    if prior is not None:
        if prior.encoder_fingerprint != encoder_fingerprint or prior.dimension != vectors.shape[1]:
            raise ModelError(
                f"The borrowed sentiment model reads vectors of {prior.encoder_fingerprint} "
                f"({prior.dimension}-d), this workspace's are {encoder_fingerprint} ({vectors.shape[1]}-d).",
                hint="Borrow from a workspace that uses the same encoder (embed.model).",
            )
        # The borrowed model reads each review once: its inputs serve the feature and its held-out score.
        prior_inputs = prior.inputs(vectors, lexicon_array, texts=text_list)
        verdict = prior_feature_of(prior._margin_of(prior_inputs, text_list))
        features = np.hstack([features, verdict.reshape(-1, 1)])
    text_matrix = text_features(text_list)  # hashed once: stateless, so every fit can share it
    train_index, test_index = held_out_split(truth, held_out_fraction, seed)

    def fit(index: np.ndarray) -> SentimentModel:
        model = _fit_model(
            _Inputs(features, text_matrix, truth), index, encoder_fingerprint, len(truth), seed, tune_threshold
        )
        return replace(model, prior=prior)

    quality = None
    if len(test_index) and len(set(truth[train_index].tolist())) >= 2:
        held_out_model = fit(train_index)
        test_texts = [text_list[i] for i in test_index]
        learned_labels, learned_scores = held_out_model.predict_inputs(features[test_index], test_texts)
        lexicon_test = lexicon_array[test_index]
        borrowed = None
        if prior is not None:
            borrowed = method_scores(stars_array[test_index], *prior.predict_inputs(prior_inputs[test_index], test_texts))
        quality = ModelQuality(
            learned=method_scores(stars_array[test_index], learned_labels, learned_scores),
            lexicon=method_scores(
                stars_array[test_index], [score_label(score) for score in lexicon_test], lexicon_test
            ),
            train_reviews=len(train_index),
            held_out_reviews=len(test_index),
            borrowed=borrowed,
        )
    # The served model uses every rated review; its quality is that of the held-out experiment.
    final = fit(np.arange(len(truth)))
    return replace(final, trained_on=len(truth), quality=quality)


# C=8 (weak regularisation) scored best on the Amazon review files (bench/eval_sentiment.py): mean
# polarity F1 0.84 vs 0.82 at C=2 and 0.77 at C=0.5 with 100-500 training reviews; for the polarity
# model with 5-fold cross-validation, 0.821 at C=8 vs 0.815 at C=2 and 0.747 at C=0.5.
REGULARISATION_C = 8.0
THRESHOLD_FOLDS = 5
THRESHOLD_MAX_REVIEWS = 8_000


def _logistic(
    features: np.ndarray | csr_matrix,
    target: np.ndarray,
    seed: int,
    *,
    c: float = REGULARISATION_C,
    solver: str = "lbfgs",
) -> object:
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    classifier = LogisticRegression(class_weight="balanced", max_iter=300, C=c, random_state=seed, solver=solver)
    # One BLAS thread: both solvers make thousands of small BLAS calls (liblinear's go to scipy's
    # OpenBLAS, loaded by the import above, so the limit reaches it), and waking a second thread for
    # each costs more than the call. Measured on the demo's 5,716 rated reviews, 2 shared cores:
    # a liblinear fit on the hashed words 2.1 CPU s on 2 threads, 0.2 s on one; the whole model
    # (26 fits) about 40 CPU s and 5 s. Same coefficients either way.
    with warnings.catch_warnings(), threadpool_limits(1, "blas"):
        # A not-quite-converged linear model on sentence vectors is still a good one; the held-out
        # scores say how good, so the warning adds nothing for a merchandiser.
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(features, target)
    return classifier


@dataclass(frozen=True)
class _Inputs:
    """Every rated review's model inputs, row-aligned."""

    features: np.ndarray  # model_features: vector + lexicon
    text_matrix: csr_matrix  # text_features
    truth: np.ndarray  # star labels


def _fit_model(
    inputs: _Inputs,
    index: np.ndarray,
    fingerprint: str,
    rated: int,
    seed: int,
    tune_threshold: bool,
) -> SentimentModel:
    """The 3-class model, the lexical model and the polarity model (with its threshold), fitted on
    `index` only."""
    features, truth = inputs.features, inputs.truth
    index = np.sort(_cap_per_class(index, truth, MAX_TRAINING_REVIEWS, seed))
    model = _from_sklearn(_logistic(features[index], truth[index], seed), fingerprint, len(index), rated)
    polar = index[truth[index] != "neutral"]
    target = (truth[polar] == "positive").astype(int)
    if len(set(target.tolist())) < 2:
        return model
    text_classifier, text_out_of_fold = _fit_text_model(inputs.text_matrix[polar], target, seed)
    polar_features = polarity_features(features[polar], text_out_of_fold)
    classifier = _logistic(polar_features, target, seed)
    threshold = 0.0
    if tune_threshold:
        # The search fits the model once per fold; on a large shop a sample (every review of the rarer
        # class kept) places the threshold as well at a fraction of the time.
        sample = np.searchsorted(polar, _cap_per_class(polar, truth, THRESHOLD_MAX_REVIEWS, seed))
        threshold = choose_threshold(polar_features[sample], target[sample], seed)
    return replace(
        model,
        polarity_coefficients=np.asarray(classifier.coef_[0], dtype=np.float64),  # type: ignore[attr-defined]
        polarity_intercept=float(classifier.intercept_[0]),  # type: ignore[attr-defined]
        polarity_threshold=threshold,
        text_coefficients=np.asarray(text_classifier.coef_[0], dtype=np.float64),  # type: ignore[attr-defined]
        text_intercept=float(text_classifier.intercept_[0]),  # type: ignore[attr-defined]
    )


# The lexical channel's own model (its inputs: sentiment_features.text_features).
TEXT_C = 8.0  # same weak regularisation as the vector models; C=2 scored lower (see the bench prose)
TEXT_FOLDS = 5  # out-of-fold margins for stacking


def _fit_text_model(text_matrix: csr_matrix, target: np.ndarray, seed: int) -> tuple[object, np.ndarray]:
    """The lexical polarity model on all of `text_matrix`, and its out-of-fold margins on the same rows.

    The polarity model learns how far to trust the lexical margin from margins the lexical model did
    not fit (stacking): in-sample margins of a model with 2^17 inputs are near-perfect and would take
    all the weight. With fewer than two reviews of the rarer class the margins stay 0 (no weight).
    liblinear: on sparse hashed features it fits in a third of lbfgs's time, same quality.
    """

    def fit(rows: np.ndarray) -> object:
        return _logistic(text_matrix[rows], target[rows], seed, c=TEXT_C, solver="liblinear")

    margins = _out_of_fold_margins(text_matrix, target, fit, TEXT_FOLDS, seed)
    return fit(np.arange(len(target))), margins if margins is not None else np.zeros(len(target))


def _out_of_fold_margins(
    features: np.ndarray | csr_matrix,
    target: np.ndarray,
    fit: Callable[[np.ndarray], object],
    folds: int,
    seed: int,
) -> np.ndarray | None:
    """Every row's margin from a model `fit` on the other folds (stratified; fewer folds when the rarer
    class has fewer reviews); None with fewer than two reviews of the rarer class."""
    from sklearn.model_selection import StratifiedKFold

    folds = min(folds, int(min((target == 0).sum(), (target == 1).sum())))
    if folds < 2:
        return None
    margins = np.zeros(len(target))
    # With at most one fold per review of the rarer class, every training part holds both classes.
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(target)), target):
        margins[test] = fit(train).decision_function(features[test])  # type: ignore[attr-defined]
    return margins


def choose_threshold(features: np.ndarray, target: np.ndarray, seed: int = 0, folds: int = THRESHOLD_FOLDS) -> float:
    """The polarity margin threshold with the best polarity macro-F1 on out-of-fold training margins.

    Every training review is scored by a model fitted on the other folds, so the threshold is chosen on
    margins the model did not fit, from the training reviews only (the held-out reviews never take part).
    Ties go to the threshold nearest 0 (the class-balanced model's own boundary); fewer than two
    reviews of the rarer class keep 0.

    Args:
        features: model inputs of the polar training reviews.
        target: 1 for 4-5 stars, 0 for 1-2 stars.
        seed: fold seed.
        folds: cross-validation folds (fewer when the rarer class has fewer reviews).

    Returns:
        The threshold to subtract from the margin.
    """
    margins = _out_of_fold_margins(
        features, target, lambda rows: _logistic(features[rows], target[rows], seed), folds, seed
    )
    return 0.0 if margins is None else _best_threshold(margins, target)


def _best_threshold(margins: np.ndarray, target: np.ndarray) -> float:
    # 401 quantiles of the margins (and 0) as candidates: fine enough, and (candidates x reviews) stays
    # small at 20k training reviews.
    candidates = np.unique(np.concatenate([[0.0], np.quantile(margins, np.linspace(0.0, 1.0, 401))]))
    predicted_positive = margins[None, :] >= candidates[:, None]  # (candidates, reviews)
    positive = target[None, :] == 1
    true_positive = (predicted_positive & positive).sum(axis=1)
    true_negative = (~predicted_positive & ~positive).sum(axis=1)
    f1_positive = 2 * true_positive / np.maximum(predicted_positive.sum(axis=1) + positive.sum(), 1)
    f1_negative = 2 * true_negative / np.maximum((~predicted_positive).sum(axis=1) + (~positive).sum(), 1)
    macro = (f1_positive + f1_negative) / 2
    best = macro.max()
    tied = candidates[macro >= best - 1e-12]
    return float(tied[np.argmin(np.abs(tied))])


MAX_TRAINING_REVIEWS = 20_000  # more adds little to a linear model on 384-d vectors and costs minutes


def _cap_per_class(index: np.ndarray, truth: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most `limit` training reviews, keeping every review of the rarer classes where possible."""
    if len(index) <= limit:
        return index
    rng = np.random.default_rng(seed)
    labels = truth[index]
    classes = sorted(set(labels.tolist()), key=lambda label: int((labels == label).sum()))
    kept: list[np.ndarray] = []
    budget = limit
    for position, label in enumerate(classes):
        members = index[labels == label]
        share = budget // (len(classes) - position)  # rare classes first: they keep all they have
        chosen = members if len(members) <= share else rng.choice(members, size=share, replace=False)
        kept.append(chosen)
        budget -= len(chosen)
    return np.sort(np.concatenate(kept))


def held_out_split(truth: np.ndarray, held_out_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hold out `held_out_fraction` of every class (rounded down), so a class with a single review
    stays in training: 5-star-heavy shops often have only a handful of negative reviews."""
    rng = np.random.default_rng(seed)
    train_parts, test_parts = [], []
    for label in sorted(set(truth.tolist())):
        members = rng.permutation(np.flatnonzero(truth == label))
        held = int(len(members) * held_out_fraction)
        test_parts.append(members[:held])
        train_parts.append(members[held:])
    return np.sort(np.concatenate(train_parts)), np.sort(np.concatenate(test_parts))


def _from_sklearn(classifier: object, fingerprint: str, trained_on: int, rated: int) -> SentimentModel:
    classes = tuple(str(name) for name in classifier.classes_)  # type: ignore[attr-defined]
    coefficients = np.asarray(classifier.coef_, dtype=np.float64)  # type: ignore[attr-defined]
    intercepts = np.asarray(classifier.intercept_, dtype=np.float64)  # type: ignore[attr-defined]
    if len(classes) == 2:
        # Binary logistic regression keeps one row for the second class; expand to one row per class
        # so prediction is the same softmax code path (softmax of [0, z] == sigmoid(z)).
        coefficients = np.vstack([np.zeros_like(coefficients[0]), coefficients[0]])
        intercepts = np.array([0.0, intercepts[0]])
    return SentimentModel(
        classes=classes,
        coefficients=coefficients,
        intercepts=intercepts,
        encoder_fingerprint=fingerprint,
        trained_on=trained_on,
        rated_reviews=rated,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
