"""Evaluation: review sentiment against withheld star ratings on real Amazon review files.

For each of the five Amazon 2018 5-core review files in ../shared/data (Beauty, Fashion, Appliances,
Gift Cards, Magazine Subscriptions): drop duplicate reviews (the same reviewer's same text on several
variants of a product, which would otherwise sit on both sides of the split), sample up to `--per-dataset` reviews
(stratified by star label, so the natural class mix is kept), score them by 5-fold cross-validation and
on a half/half split (stratified), train the
learned model (`recengine.text.sentiment_training.train_sentiment_model`: class-balanced logistic
regression on the bundled MiniLM's review vectors, exactly what `analyze_reviews` trains) on the first half and score
the second half against its stars, next to the lexicon (VADER + review vocabulary, sentence-averaged, as
`analyze_reviews` computes it) on the same reviews. Also a learning curve (100 / 300 training reviews)
and a pooled row (all five training halves -> all five test halves).

Metrics: polarity macro-F1 (3-star reviews left out; the sign of the score is the prediction),
3-class accuracy and 3-class macro-F1 (1-2 negative, 3 neutral, 4-5 positive).

Run: `.venv/bin/python bench/eval_sentiment.py` (a few minutes on 2 cores; vectors are cached under
bench/out/ so a re-run only re-scores). Writes its block into docs/EVALUATION.md. Skips with a message
when the data folder is absent.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.report import EVALUATION, stamp, write_section  # noqa: E402
from recengine.text.sentences import review_text, split_sentences  # noqa: E402
from recengine.text.sentiment_features import PRIOR_FEATURE_WEIGHT, with_title_vectors  # noqa: E402
from recengine.text.sentiment_labels import MethodScores, method_scores, score_label, star_label  # noqa: E402
from recengine.text.sentiment_lexicon import review_lexicon_score, sentence_scores  # noqa: E402
from recengine.text.sentiment_training import train_sentiment_model  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
DATASETS = {
    "Beauty": "amazon2018-5core/All_Beauty_5.json.gz",
    "Fashion": "amazon2018-5core/AMAZON_FASHION_5.json.gz",
    "Appliances": "amazon2018-5core/Appliances_5.json.gz",
    "Gift Cards": "amazon2018-giftcards/Gift_Cards_5.json.gz",
    "Magazine": "amazon2018-magazine/Magazine_Subscriptions_5.json.gz",
}
OUT = ROOT / "bench" / "out"
SECTION = "eval_sentiment"
# The same protocol with the larger encoder (`--model bundled:all-mpnet-base-v2`, scripts/install-mpnet.sh),
# measured separately because it encodes about 8x slower on CPU; kept as prose so the default run's table
# stays the bundled MiniLM's.
MPNET_NOTE = """**Larger encoder** (measured 2026-12-02 on this 2-core machine, the same folds and model, review and
title vectors from all-mpnet-base-v2 instead of MiniLM: `.venv/bin/python bench/eval_sentiment.py --per-dataset 5000
--max-seq-length 256 --model bundled:all-mpnet-base-v2 --tune-encoder never --no-write` after `scripts/install-mpnet.sh`):
5-fold learned polarity F1 Beauty 0.811, Fashion 0.824, Appliances 0.933, Gift Cards 0.889, Magazine
0.888, mean of the five 0.869, pooled 0.882 (MiniLM, first table: 0.772 / 0.829 / 0.930 / 0.902 / 0.858,
mean 0.858); without the title vectors (format 4) 0.823 / 0.847 / 0.854 / 0.865 / 0.884, mean 0.854. Borrowing
a model trained on the other four files: 0.820 / 0.854 / 0.946 / 0.899 / 0.888, mean 0.881 (format 4: 0.880,
Beauty 0.847). It lifts Beauty by about 0.04 over MiniLM and leaves it under 0.85 in every variant; the files
with the most negatives per review (Magazine) gain 0.03. Its cost is encoding: about 8x
MiniLM's time on CPU (2.6 against 20.8 Magazine reviews/s at up to 256 tokens, fp32, on these 2 cores
when quiet: 100k reviews would take about 11 hours), so it is a setting for shops with a GPU, not the
default."""


# What the tuned-encoder table shows and what was measured before it (2026-12-02, this 2-core machine).
PRIOR_NOTE = """Weight of the borrowed model's verdict (tanh(margin / 2) x weight), measured on 2026-12-02 with
the same folds before the setting was built, with model format 4 (review vectors only; polarity F1 Beauty / Fashion / Appliances / Gift Cards /
Magazine, mean): 0.05: 0.780 / 0.812 / 0.886 / 0.889 / 0.862, mean 0.846; 0.2: 0.793 / 0.829 / 0.914 / 0.902 /
0.861, mean 0.860; 0.5: 0.795 / 0.843 / 0.930 / 0.895 / 0.859, mean 0.864; 1: 0.790 / 0.849 / 0.900 / 0.873 /
0.857 (mean 0.854). 0.5 is kept; the choice was made on these files, so the exact figure flatters it
slightly, but every weight from 0.05 to 0.5 gains on the mean and none costs a file more than 0.006. The
rule fixed for encoder tuning (mean +0.01 or more, no file down by more than 0.02) passes at 0.2 and 0.5.
Borrowing is a setting, off until staff name a workspace: the product ships no model trained on other
shops' reviews (these Amazon files are for research use), so a shop borrows from its own other shops.
With the larger encoder (all-mpnet-base-v2 review vectors, format 4, the same folds, `--model
bundled:all-mpnet-base-v2 --tune-encoder never --no-write`), borrowing gave 0.847 / 0.874 / 0.930 /
0.867 / 0.882, mean 0.880, against 0.823 / 0.847 / 0.854 / 0.865 / 0.884 (mean 0.855) on each file's own
reviews: four of the five files reached 0.85, and Beauty was 0.003 short. Borrowing on top of encoder tuning (auto,
format 4, the same folds and tuned vectors, measured with a scratch script, not this one): 0.814 /
0.851 / 0.930 / 0.878 / 0.862, mean 0.867, against 0.864 for borrowing alone: no clear gain for the second
encoding of every review, so the product leaves the borrowed model out when it tunes the encoder, and
`auto` does not tune a model that borrows (borrowing scores higher than tuning in the tables above).
Also measured on 2026-12-02 (format 4, scratch script, not kept): a starter model trained on 110 review-like
sentences written for this purpose (no shop's data) as the borrowed model, so that every shop could borrow
from the start: alone 0.683 / 0.851 / 0.711 / 0.611 / 0.795 (mean 0.730, lexicon 0.703), borrowed at
weight 0.5 / 0.2 / 0.1 a mean of 0.842 / 0.843 / 0.836 against 0.839, with Gift Cards down 0.035 / 0.016
/ 0.016: too little, and not shipped."""

TITLE_WEIGHT_NOTE = """The title block's weight was chosen on these files in a scratch run (the same folds,
format 4 otherwise): 0.5 / 1 / 1.5 / 2 gave means of 0.844 / 0.858 / 0.853 / 0.843, so 1 (the block as
encoded, unscaled) is kept and its figure flatters it slightly. Titles are short and often repeat ("Five
Stars"): encoding them adds about 15% to a first encoding of real reviews (docs/BENCHMARKS.md)."""

TUNING_NOTE = """Measured before, with model format 4 (the review vectors only, no title vectors): with side-by-side
inputs the product's path (auto) gained 0.008 on the mean of the five
(Beauty +0.051, Fashion +0.011, Gift Cards -0.018), and the tuned vectors alone gained nothing (-0.002). Measured on 2026-12-02 with the same folds, with the encoder tuned on all of each fold's training
reviews rather than 80% (`--tune-on all`; the product keeps 80%, so that its held-out figures stay
unseen by the encoder too). Polarity F1, Beauty / Fashion / Appliances / Gift Cards / Magazine, and the mean:
always, side by side 0.806 / 0.853 / 0.837 / 0.873 / 0.869, mean 0.848; always, tuned vectors alone
0.820 / 0.828 / 0.881 / 0.854 / 0.866, mean 0.850; auto, side by side 0.806 / 0.812 / 0.867 / 0.875 /
0.861, mean 0.844; the plain encoder 0.774 / 0.796 / 0.867 / 0.895 / 0.861, mean 0.839. So tuning
lifts the two weakest files (Beauty by 0.03-0.05, Fashion by 0.01-0.06; Fashion reaches 0.853 when every
fold is tuned) and 3-class accuracy on every file but Appliances. It costs Gift Cards 0.02-0.04: 30 negative reviews, about
20 to tune on per fold. Tuning on all training reviews gains nothing over 80% (auto: 0.844 vs 0.847).
Side by side against alone is a wash on the mean: Fashion +0.025 and Gift Cards +0.019, but Beauty
-0.014 and Appliances -0.044 (15 negatives). The product reads both, because that halves the loss on
Gift Cards, the larger file. The rule, fixed before any side-by-side figure was seen: switch the default to auto only if the mean
gains at least 0.01 and no file loses more than 0.02. No format-4 variant passed, so the default stayed never. The
held-out check inside each fold is too small to choose folds by: a rule that kept the tuned model only when it
beat the plain one on the training folds' held-out 20% scored lower still (mean 0.834). An earlier scratch
loop reached Beauty 0.846, with a constant learning rate and batches of 6 negative, 4 neutral and 6
positive reviews. The trainer on all training reviews did not reproduce it (0.820 alone), and single
folds swing by +-0.1 (Beauty 0.688 to 0.932), so that figure is within the noise. Cost on these 2 CPU
cores: about 3.5 minutes to tune per fold, plus 10-60 s to encode a file again. All 25 folds took
106 minutes, part of it beside a test run."""


@dataclass
class Split:
    name: str
    train_texts: list[str]
    train_stars: np.ndarray
    test_texts: list[str]
    test_stars: np.ndarray
    available: int  # distinct reviews in the file
    train_titles: list[str]  # the review summaries, "" where a review has none
    test_titles: list[str]


def load_dataset(name: str, relative: str, per_dataset: int, seed: int) -> Split | None:
    path = DATA / relative
    if not path.exists():
        print(f"skip {name}: {path} not found", file=sys.stderr)
        return None
    frame = pd.read_json(path, lines=True, compression="gzip")
    # 5-core files repeat one review on every variant (size, colour) of a product: Fashion's 3,176 rows
    # hold 447 distinct reviews. Left in, the same text lands in both halves and a learned model is
    # scored on what it memorised; one copy per (reviewer, summary, text) is kept.
    frame = frame.drop_duplicates(subset=["reviewerID", "summary", "reviewText"])
    frame["text"] = [
        review_text(None if pd.isna(summary) else str(summary), None if pd.isna(body) else str(body))
        for summary, body in zip(frame.get("summary"), frame.get("reviewText"), strict=True)
    ]
    frame = frame[frame["text"].str.strip() != ""]
    frame["title"] = ["" if pd.isna(summary) else str(summary).strip() for summary in frame.get("summary")]
    frame["label"] = [star_label(float(star)) for star in frame["overall"]]
    available = len(frame)
    if len(frame) > per_dataset:
        # Stratified sample: each label keeps its share of the file.
        frame = frame.groupby("label", group_keys=False).sample(frac=per_dataset / len(frame), random_state=seed)
    rng = np.random.default_rng(seed)
    train_parts, test_parts = [], []
    for _label, group in frame.groupby("label"):
        order = rng.permutation(len(group))
        half = len(group) // 2
        train_parts.append(group.iloc[order[:half]])
        test_parts.append(group.iloc[order[half:]])
    train = pd.concat(train_parts).sample(frac=1.0, random_state=seed)
    test = pd.concat(test_parts)
    return Split(name, train["text"].tolist(), train["overall"].to_numpy(float),
                 test["text"].tolist(), test["overall"].to_numpy(float), available,
                 train["title"].tolist(), test["title"].tolist())


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def encode_cached(texts: list[str], encoder, max_seq_length: int, *, allow_encode: bool = True):  # type: ignore[no-untyped-def]
    """Vectors of texts, cached on disk per text (so a bigger sample re-uses a smaller one's work);
    returns (vectors, seconds spent encoding)."""
    OUT.mkdir(parents=True, exist_ok=True)
    tag = hashlib.sha1(f"{encoder.fingerprint}|{max_seq_length}".encode()).hexdigest()[:12]
    cache = OUT / f"sentiment-text-vectors-{tag}.npz"
    known: dict[str, np.ndarray] = {}
    if cache.exists():
        with np.load(cache, allow_pickle=False) as stored:
            known = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    keys = [_text_key(text) for text in texts]
    missing = list(dict.fromkeys(key for key in keys if key not in known))
    seconds = 0.0
    if missing and not allow_encode:
        return None, 0.0
    if missing:
        by_key = dict(zip(keys, texts, strict=True))
        started = time.perf_counter()
        fresh = np.asarray(encoder.encode([by_key[key] for key in missing]), dtype=np.float32)
        seconds = time.perf_counter() - started
        known.update(zip(missing, fresh, strict=True))
        with open(cache, "wb") as handle:
            np.savez(handle, keys=np.array(list(known)), vectors=np.stack(list(known.values())))
    return np.stack([known[key] for key in keys]), seconds


def with_titles_cached(texts: list[str], titles: list[str], encoder, max_seq_length: int, *,  # type: ignore[no-untyped-def]
                       allow_encode: bool = True) -> tuple[np.ndarray | None, float]:
    """What the product's model reads (`with_title_vectors`): each review's vector, then its title's own
    vector (zeros where a review has none), as `review_title_vectors` makes them; with seconds encoding.
    None when a vector is neither cached nor allowed to be encoded."""
    vectors, seconds = encode_cached(texts, encoder, max_seq_length, allow_encode=allow_encode)
    titled = [index for index, title in enumerate(titles) if title]
    found, title_seconds = encode_cached([titles[i] for i in titled], encoder, max_seq_length, allow_encode=allow_encode)
    seconds += title_seconds
    if vectors is None or (titled and found is None):
        return None, seconds
    title_vectors = np.zeros_like(vectors)
    if titled:
        title_vectors[titled] = found
    return with_title_vectors(vectors, title_vectors), seconds


def _cached_count(encoder, max_seq_length: int) -> int:  # type: ignore[no-untyped-def]
    tag = hashlib.sha1(f"{encoder.fingerprint}|{max_seq_length}".encode()).hexdigest()[:12]
    cache = OUT / f"sentiment-text-vectors-{tag}.npz"
    if not cache.exists():
        return 0
    with np.load(cache, allow_pickle=False) as stored:
        return len(stored["keys"])


def lexicon_scores(texts: list[str]) -> np.ndarray:
    return np.array([review_lexicon_score(sentence_scores(split_sentences(text))) for text in texts])


def learned_scores(train_vectors, train_stars, train_lexicon, test_vectors, test_lexicon, test_stars, fingerprint, *, train_texts: list[str], test_texts: list[str], tune_threshold: bool = True, prior=None) -> MethodScores:  # type: ignore[no-untyped-def]
    """Fit on the training part (as analyze_reviews does), score the test part.

    A training part holding one class only (tiny samples) gets all-zero scores instead of an error, so
    the row still prints.
    """
    if len({star_label(star) for star in train_stars}) < 2:
        return MethodScores(0.0, 0.0, 0.0, len(test_stars), 0)
    model = train_sentiment_model(train_vectors, train_stars, train_lexicon, texts=train_texts,
                                  encoder_fingerprint=fingerprint, held_out_fraction=0.0, tune_threshold=tune_threshold,
                                  prior=prior)
    labels, scores = model.predict(test_vectors, test_lexicon, texts=test_texts)
    return method_scores(test_stars, labels, scores)


def kfold_scores(vectors, stars, lexicon, texts: list[str], fingerprint, folds: int, seed: int, *, tune_threshold: bool = True, prior=None) -> MethodScores:  # type: ignore[no-untyped-def]
    """k-fold cross-validation: every review is scored once, by a model (the product's
    `train_sentiment_model`, threshold included) fitted on the other folds only; the pooled
    out-of-fold predictions are compared with the stars."""
    from sklearn.model_selection import StratifiedKFold

    truth = np.array([star_label(star) for star in stars])
    folds = min(folds, int(pd.Series(truth).value_counts().min()))
    labels = np.empty(len(stars), dtype=object)
    scores = np.zeros(len(stars))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(vectors, truth):
        model = train_sentiment_model(vectors[train], stars[train], lexicon[train], texts=[texts[i] for i in train],
                                      encoder_fingerprint=fingerprint, held_out_fraction=0.0, seed=seed,
                                      tune_threshold=tune_threshold, prior=prior)
        fold_labels, fold_scores = model.predict(vectors[test], lexicon[test], texts=[texts[i] for i in test])
        labels[test] = fold_labels
        scores[test] = fold_scores
    return method_scores(stars, labels.tolist(), scores)


@dataclass
class TunedFolds:
    """The product's default path (`text.sentiment_encoder_tuning = auto`) under k-fold cross-validation."""

    scores: MethodScores
    plain: MethodScores  # the same folds on the plain encoder vectors
    tuned_alone: MethodScores  # the same folds, the tuned folds read the tuned vectors without the plain ones
    tuned_folds: int
    folds: int


def tuned_kfold_scores(name: str, vectors, stars, lexicon, texts: list[str], encoder, arguments: argparse.Namespace) -> TunedFolds:  # type: ignore[no-untyped-def]
    """k-fold cross-validation of what `analyze_reviews` does with each fold's training reviews as the
    shop's rated reviews: train on the plain vectors; where `tuning_decision` says so (the plain model's
    held-out polarity F1 under 0.85, measured inside the training folds), tune a copy of the encoder on
    the training reviews (`tune_for_rated_reviews`), encode every review with it and train again on
    those vectors. The test fold is never seen by the tuning or the classifier. Tuned vectors are cached
    per file, fold and setting under bench/out, so a re-run only re-scores."""
    import tempfile

    from sklearn.model_selection import StratifiedKFold

    from recengine.embed.models import resolve_model
    from recengine.text.sentiment_encoder import (
        TuningArguments,
        side_by_side,
        tune_for_rated_reviews,
        tune_sentiment_encoder,
        tuning_decision,
    )

    source = resolve_model(arguments.model)
    truth = np.array([star_label(star) for star in stars])
    folds = min(arguments.folds, int(pd.Series(truth).value_counts().min()))
    labels = np.empty(len(stars), dtype=object)
    scores = np.zeros(len(stars))
    plain_labels = np.empty(len(stars), dtype=object)
    plain_scores = np.zeros(len(stars))
    alone_labels = np.empty(len(stars), dtype=object)
    alone_scores = np.zeros(len(stars))
    tuned = 0
    tuning = TuningArguments(steps=arguments.tune_steps)
    for fold, (train, test) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=arguments.seed).split(vectors, truth)):
        train_texts = [texts[i] for i in train]
        test_texts = [texts[i] for i in test]
        plain = train_sentiment_model(vectors[train], stars[train], lexicon[train], texts=train_texts,
                                      encoder_fingerprint=encoder.fingerprint, seed=arguments.seed)
        plain_labels[test], plain_scores[test] = plain.predict(vectors[test], lexicon[test], texts=test_texts)
        plain_f1 = plain.quality.learned.polarity_macro_f1 if plain.quality else None
        tune, _note = tuning_decision(arguments.tune_encoder, plain_f1, len(texts), "cpu", 10**9, trainable=True)
        if not tune:
            labels[test], scores[test] = plain_labels[test], plain_scores[test]
            alone_labels[test], alone_scores[test] = plain_labels[test], plain_scores[test]
            continue
        key = f"{name}|{fold}|{folds}|{arguments.seed}|{tuning}|{encoder.fingerprint}|{arguments.max_seq_length}|{len(texts)}"
        if arguments.tune_on == "all":
            key += "|all"
        tuned_vectors = _cached_tuned_vectors(key)
        if tuned_vectors is None:
            print(f"  {name} fold {fold + 1}/{folds}: plain held-out F1 {plain_f1:.3f}, tuning the encoder", file=sys.stderr)
            with tempfile.TemporaryDirectory() as scratch:
                if arguments.tune_on == "all":
                    directory = tune_sentiment_encoder(str(source.path), train_texts, truth[train].tolist(),
                                                       Path(scratch) / "tuned", arguments=tuning)
                else:
                    directory = tune_for_rated_reviews(str(source.path), train_texts, stars[train].tolist(),
                                                       Path(scratch) / "tuned", arguments=tuning)
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(str(directory), device="cpu")
                model.max_seq_length = arguments.max_seq_length
                tuned_vectors = np.asarray(model.encode(texts, batch_size=32, normalize_embeddings=True), dtype=np.float32)
            _store_tuned_vectors(key, tuned_vectors)
        tuned += 1
        both = side_by_side(vectors, tuned_vectors)  # what the product's model reads
        head = train_sentiment_model(both[train], stars[train], lexicon[train], texts=train_texts,
                                     encoder_fingerprint="plain+tuned", held_out_fraction=0.0, seed=arguments.seed)
        labels[test], scores[test] = head.predict(both[test], lexicon[test], texts=test_texts)
        alone = train_sentiment_model(tuned_vectors[train], stars[train], lexicon[train], texts=train_texts,
                                      encoder_fingerprint="tuned", held_out_fraction=0.0, seed=arguments.seed)
        alone_labels[test], alone_scores[test] = alone.predict(tuned_vectors[test], lexicon[test], texts=test_texts)
        fold_f1 = method_scores(stars[test], labels[test].tolist(), scores[test]).polarity_macro_f1
        plain_fold_f1 = method_scores(stars[test], plain_labels[test].tolist(), plain_scores[test]).polarity_macro_f1
        print(f"  {name} fold {fold + 1}/{folds}: tuned {fold_f1:.3f}, plain {plain_fold_f1:.3f}", file=sys.stderr)
    return TunedFolds(method_scores(stars, labels.tolist(), scores), method_scores(stars, plain_labels.tolist(), plain_scores),
                      method_scores(stars, alone_labels.tolist(), alone_scores), tuned, folds)


def _tuned_cache_path() -> Path:
    return OUT / "sentiment-tuned-vectors.npz"


def _cached_tuned_vectors(key: str) -> np.ndarray | None:
    path = _tuned_cache_path()
    if not path.exists():
        return None
    digest = hashlib.sha1(key.encode()).hexdigest()
    with np.load(path, allow_pickle=False) as stored:
        return np.asarray(stored[digest]) if digest in stored.files else None


def _store_tuned_vectors(key: str, vectors: np.ndarray) -> None:
    path = _tuned_cache_path()
    known: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:
            known = {name: stored[name] for name in stored.files}
    known[hashlib.sha1(key.encode()).hexdigest()] = vectors
    OUT.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        np.savez(handle, **known)


def _kfold_row(name: str, available: str, vectors, stars, lexicon, texts: list[str], fingerprint: str, arguments: argparse.Namespace):  # type: ignore[no-untyped-def]
    """One row of the k-fold table: learned (threshold by inner CV), learned (threshold 0), lexicon."""
    print(f"{name}: {arguments.folds}-fold cross-validation on {len(stars):,} reviews", file=sys.stderr)
    learned = kfold_scores(vectors, stars, lexicon, texts, fingerprint, arguments.folds, arguments.seed)
    untuned = kfold_scores(vectors, stars, lexicon, texts, fingerprint, arguments.folds, arguments.seed,
                           tune_threshold=False)
    # The previous version's model: the review vectors alone, without the title block.
    untitled = kfold_scores(vectors[:, : vectors.shape[1] // 2], stars, lexicon, texts, fingerprint, arguments.folds,
                            arguments.seed)
    lexicon_result = method_scores(stars, [score_label(score) for score in lexicon], lexicon)
    counts = pd.Series([star_label(star) for star in stars]).value_counts()
    row = (
        f"| {name} | {available} | {len(stars):,} ({counts.get('negative', 0)}/{counts.get('neutral', 0)}/"
        f"{counts.get('positive', 0)}) | **{fmt(learned.polarity_macro_f1)}** | {fmt(untitled.polarity_macro_f1)} "
        f"| {fmt(untuned.polarity_macro_f1)} "
        f"| {fmt(lexicon_result.polarity_macro_f1)} | {fmt(learned.accuracy)} | {fmt(lexicon_result.accuracy)} "
        f"| {fmt(learned.macro_f1)} | {fmt(lexicon_result.macro_f1)} |"
    )
    return row, learned, lexicon_result, untitled


def _title_note(with_titles: dict[str, float], without: dict[str, float]) -> str:
    """What the title vectors (model format 5) changed, file by file, and the weights tried before."""
    import textwrap

    changes = ", ".join(f"{name} {with_titles[name] - without[name]:+.3f}" for name in with_titles)
    lead = (
        "**Title vectors** (model format 5, `with_title_vectors`): the model reads the vector of the review's "
        "title (its summary) alone next to the vector of the whole review, because a title is the reviewer's "
        f"verdict in a few words that the body dilutes. Polarity F1 against the same model without them: {changes}."
    )
    return f"{textwrap.fill(lead, width=105)}\n{TITLE_WEIGHT_NOTE}"


def _tuned_section(arguments: argparse.Namespace, rows: list[str], means: list[tuple[float, float, float]]) -> str:
    if not rows:
        return ""
    tuned_mean, alone_mean, plain_mean = (float(value) for value in np.mean(np.array(means), axis=0))
    worst = min(tuned - plain for tuned, _alone, plain in means)
    passes = tuned_mean - plain_mean >= 0.01 and worst >= -0.02
    rule = (
        f"The rule for making auto the default, fixed before any of these figures were seen (the mean gains at "
        f"least 0.01 and no file loses more than 0.02): the mean gains {tuned_mean - plain_mean:+.3f} and the "
        f"worst file {worst:+.3f}, so it {'passes: auto is the default' if passes else 'fails: the default would stay never'}."
    )
    return f"""**Encoder tuned for sentiment** (`text.sentiment_encoder_tuning = "{arguments.tune_encoder}"`, the
product's default since model format 5; recengine.text.sentiment_encoder). The same {arguments.folds} folds, each fold's
training reviews taken as a shop's rated reviews and treated exactly as `analyze_reviews` treats them: the
plain model above is trained first; {"where its held-out polarity F1 (20% of the training folds, stratified) is under 0.85, " if arguments.tune_encoder == "auto" else ""}a copy
of the encoder is tuned on {"the other 80%" if arguments.tune_on == "train-part" else "all of the fold's training reviews"} ({arguments.tune_steps} steps of 16 reviews at 128 tokens, learning rate
2e-5, a batch-all triplet loss over the star labels with the labels drawn in equal shares: SetFit-style
contrastive tuning), every review is encoded with the tuned copy and the model is trained again on the
plain and the tuned vectors side by side ("tuned vectors alone": on the tuned vectors only, as the
previous version did). The test fold is seen by neither. "folds tuned": folds where that happened (the others keep the
plain model); "plain": the table above's model on the same folds. Tuned vectors are cached per fold in
bench/out, so a re-run only re-scores.

| data set | scored | folds tuned | learned polarity F1 | tuned vectors alone | plain encoder | lexicon polarity F1 | learned acc. | plain acc. | learned macro-F1 |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}
| mean of the five | | | **{tuned_mean:.3f}** | {alone_mean:.3f} | {plain_mean:.3f} | | | | |

{rule}

{TUNING_NOTE}
"""


@dataclass
class FileData:
    """One review file's inputs and plain-model figures, kept for the sections that need every file."""

    split: Split
    vectors: np.ndarray
    stars: np.ndarray
    lexicon: np.ndarray
    texts: list[str]
    plain: MethodScores  # k-fold, the product's default model
    lexicon_scores: MethodScores
    train_vectors: np.ndarray  # the half/half split, for the learning curve
    train_lexicon: np.ndarray
    test_vectors: np.ndarray
    test_lexicon: np.ndarray
    curve: list[MethodScores | None]  # curve_scores on own reviews only


CURVE_SIZES = (100, 300)  # training reviews of the learning curve


def curve_scores(split: Split, train_vectors, train_lexicon, test_vectors, test_lexicon, fingerprint: str, *, prior=None) -> list[MethodScores | None]:  # type: ignore[no-untyped-def]
    """The learning curve: the model trained on the first CURVE_SIZES reviews of the half/half split's
    training half, scored on its test half (None where the half is smaller or holds one label only)."""
    scores: list[MethodScores | None] = []
    for size in CURVE_SIZES:
        subset = slice(0, size)
        if size >= len(split.train_texts) or len({star_label(star) for star in split.train_stars[subset]}) < 2:
            scores.append(None)
            continue
        scores.append(learned_scores(train_vectors[subset], split.train_stars[subset], train_lexicon[subset],
                                     test_vectors, test_lexicon, split.test_stars, fingerprint,
                                     train_texts=split.train_texts[subset], test_texts=split.test_texts,
                                     prior=prior))
    return scores


def _borrowed_section(files: dict[str, FileData], fingerprint: str, arguments: argparse.Namespace) -> str:
    """Each file's model borrowing one trained on all reviews of the other files (text.sentiment_prior),
    k-fold as the main table, and on the learning curve's small training sets."""
    if len(files) < 2:
        return ""
    rows, curve_rows, means = [], [], []
    for name, data in files.items():
        others = [other for other in files.values() if other is not data]
        started = time.perf_counter()
        prior = train_sentiment_model(
            np.concatenate([other.vectors for other in others]), np.concatenate([other.stars for other in others]),
            np.concatenate([other.lexicon for other in others]), texts=sum((other.texts for other in others), []),
            encoder_fingerprint=fingerprint, held_out_fraction=0.0, seed=arguments.seed,
        )
        labels, scores = prior.predict(data.vectors, data.lexicon, texts=data.texts)
        alone = method_scores(data.stars, labels, scores)
        borrowing = kfold_scores(data.vectors, data.stars, data.lexicon, data.texts, fingerprint, arguments.folds,
                                 arguments.seed, prior=prior)
        print(f"{name}: borrowed alone {alone.polarity_macro_f1:.3f}, borrowing {borrowing.polarity_macro_f1:.3f}, "
              f"own only {data.plain.polarity_macro_f1:.3f} ({time.perf_counter() - started:.0f}s)", file=sys.stderr)
        means.append((borrowing.polarity_macro_f1, data.plain.polarity_macro_f1, alone.polarity_macro_f1))
        rows.append(
            f"| {name} | {len(data.stars):,} | {sum(len(other.stars) for other in others):,} | "
            f"**{fmt(borrowing.polarity_macro_f1)}** | {fmt(data.plain.polarity_macro_f1)} | "
            f"{fmt(alone.polarity_macro_f1)} | {fmt(data.lexicon_scores.polarity_macro_f1)} | "
            f"{fmt(borrowing.accuracy)} | {fmt(data.plain.accuracy)} |"
        )
        borrowing_curve = curve_scores(data.split, data.train_vectors, data.train_lexicon, data.test_vectors,
                                       data.test_lexicon, fingerprint, prior=prior)
        curve = [
            "-" if own is None or borrowed is None
            else f"{fmt(own.polarity_macro_f1)} / **{fmt(borrowed.polarity_macro_f1)}**"
            for own, borrowed in zip(data.curve, borrowing_curve, strict=True)
        ]
        curve_rows.append(f"| {name} | {' | '.join(curve)} |")
    mean = [sum(values) / len(values) for values in zip(*means, strict=True)]
    return f"""**A model borrowed from other shops** (`text.sentiment_prior`, recengine.text.sentiment_prior): for
each file, a model trained on every review of the other {len(files) - 1} files (as another shop's workspace
would hold it) is borrowed: its verdict on each review is one more input (weight {PRIOR_FEATURE_WEIGHT}) of the
file's own model, fitted on the same {arguments.folds} folds as the first table. "borrowed alone": the other
files' model on this file, with no training here.

| data set | scored | reviews the borrowed model learned from | learned polarity F1, borrowing | own reviews only (first table) | borrowed alone | lexicon | learned acc., borrowing | own only acc. |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}
| mean of the {len(files)} | | | **{fmt(mean[0])}** | {fmt(mean[1])} | {fmt(mean[2])} | | | |

Small shops (the learning curve's training sets of the half/half split, same test half), polarity F1 own
reviews only / **borrowing**:

| data set | 100 rated reviews | 300 rated reviews |
|---|---|---|
{chr(10).join(curve_rows)}

{PRIOR_NOTE}
"""


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _pooled_at(arguments: argparse.Namespace, encoder, stacked: dict) -> str:  # type: ignore[no-untyped-def]
    """Pooled learned polarity F1 with another truncation, from cached vectors only (no encoding)."""
    other = arguments.compare_seq_length
    if not other or other == arguments.max_seq_length:
        return ""
    train_parts, test_parts = [], []
    for name, relative in DATASETS.items():
        split = load_dataset(name, relative, arguments.per_dataset, arguments.seed)
        if split is None:
            continue
        train_vectors, _ = with_titles_cached(split.train_texts, split.train_titles, encoder, other, allow_encode=False)
        test_vectors, _ = with_titles_cached(split.test_texts, split.test_titles, encoder, other, allow_encode=False)
        if train_vectors is None or test_vectors is None:
            return f"(No cached {other}-token vectors to compare with.)"
        train_parts.append(train_vectors)
        test_parts.append(test_vectors)
    scores = learned_scores(np.concatenate(train_parts), stacked["train_stars"], stacked["train_lexicon"],
                            np.concatenate(test_parts), stacked["test_lexicon"], stacked["test_stars"],
                            encoder.fingerprint, train_texts=stacked["train_texts"], test_texts=stacked["test_texts"])
    return (f"With reviews truncated to {other} tokens instead, the pooled learned polarity macro-F1 is "
            f"{scores.polarity_macro_f1:.3f}.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-dataset", type=int, default=1000, help="Reviews sampled per file (half train, half test).")
    parser.add_argument("--max-seq-length", type=int, default=256,
                        help="Encoder truncation (tokens); 256 is the embed setting's default.")
    parser.add_argument("--compare-seq-length", type=int, default=128,
                        help="Also score the pooled row with vectors of this truncation when they are cached.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=5, help="k of the k-fold cross-validation table.")
    parser.add_argument("--no-write", action="store_true", help="Print only; leave docs/EVALUATION.md alone.")
    parser.add_argument("--tune-encoder", choices=["auto", "always", "never"], default="auto",
                        help="text.sentiment_encoder_tuning for the tuned-encoder table (auto: the product's "
                        "default; never: skip the table).")
    parser.add_argument("--tune-steps", type=int, default=60, help="text.sentiment_encoder_steps.")
    parser.add_argument("--tune-on", choices=["train-part", "all"], default="train-part",
                        help="Tune the encoder on the 80%% of a fold's training reviews that the held-out check "
                        "leaves (train-part) or on all of them (all), as the classifier's final refit.")
    parser.add_argument("--model", default="bundled:all-MiniLM-L6-v2",
                        help="Encoder (embed.model setting: bundled name or local folder) whose review vectors "
                        "the learned model reads.")
    arguments = parser.parse_args()
    if not DATA.exists():
        print(f"eval_sentiment: the real data folder {DATA} is absent; nothing to evaluate.", file=sys.stderr)
        return 0

    from recengine.config import EmbedSettings
    from recengine.embed import load_encoder

    settings = EmbedSettings(model=arguments.model, max_seq_length=arguments.max_seq_length)
    started = time.perf_counter()
    encoder = load_encoder(settings)
    print(f"encoder {encoder.fingerprint} loaded in {time.perf_counter() - started:.1f}s", file=sys.stderr)

    rows: list[str] = []
    curve_rows: list[str] = []
    pooled: dict[str, list] = {key: [] for key in ("train_vectors", "train_stars", "train_lexicon", "test_vectors", "test_stars", "test_lexicon")}
    pooled_texts: dict[str, list[str]] = {"train_texts": [], "test_texts": []}
    encode_seconds = 0.0
    encoded = 0
    target_scores: dict[str, float] = {}
    tuned_scores: dict[str, float] = {}  # the product's default path (auto encoder tuning), per file
    untitled_scores: dict[str, float] = {}  # the same model without the title vectors (model format 4)
    half_scores: dict[str, float] = {}
    gains: list[float] = []
    kfold_rows: list[str] = []
    tuned_rows: list[str] = []
    tuned_means: list[tuple[float, float, float]] = []
    negatives: dict[str, int] = {}
    files: dict[str, FileData] = {}
    for name, relative in DATASETS.items():
        split = load_dataset(name, relative, arguments.per_dataset, arguments.seed)
        if split is None:
            continue
        print(f"{name}: {len(split.train_texts)} train / {len(split.test_texts)} test", file=sys.stderr)
        before = _cached_count(encoder, arguments.max_seq_length)
        train_vectors, seconds_a = with_titles_cached(split.train_texts, split.train_titles, encoder, arguments.max_seq_length)
        test_vectors, seconds_b = with_titles_cached(split.test_texts, split.test_titles, encoder, arguments.max_seq_length)
        encode_seconds += seconds_a + seconds_b
        encoded += _cached_count(encoder, arguments.max_seq_length) - before
        train_lexicon = lexicon_scores(split.train_texts)
        test_lexicon = lexicon_scores(split.test_texts)
        lexicon = method_scores(split.test_stars, [score_label(score) for score in test_lexicon], test_lexicon)
        learned = learned_scores(train_vectors, split.train_stars, train_lexicon, test_vectors, test_lexicon,
                                 split.test_stars, encoder.fingerprint, train_texts=split.train_texts,
                                 test_texts=split.test_texts)
        half_scores[name] = learned.polarity_macro_f1
        all_vectors = np.concatenate([train_vectors, test_vectors])
        all_stars = np.concatenate([split.train_stars, split.test_stars])
        all_lexicon = np.concatenate([train_lexicon, test_lexicon])
        row, kfold_learned, kfold_lexicon, kfold_untitled = _kfold_row(name, f"{split.available:,}", all_vectors, all_stars,
                                                       all_lexicon, split.train_texts + split.test_texts,
                                                       encoder.fingerprint, arguments)
        kfold_rows.append(row)
        target_scores[name] = kfold_learned.polarity_macro_f1
        untitled_scores[name] = kfold_untitled.polarity_macro_f1
        if arguments.tune_encoder != "never":
            result = tuned_kfold_scores(name, all_vectors, all_stars, all_lexicon, split.train_texts + split.test_texts,
                                        encoder, arguments)
            tuned_rows.append(
                f"| {name} | {len(all_stars):,} | {result.tuned_folds} of {result.folds} | "
                f"**{fmt(result.scores.polarity_macro_f1)}** | {fmt(result.tuned_alone.polarity_macro_f1)} | "
                f"{fmt(result.plain.polarity_macro_f1)} | {fmt(kfold_lexicon.polarity_macro_f1)} | "
                f"{fmt(result.scores.accuracy)} | {fmt(result.plain.accuracy)} | {fmt(result.scores.macro_f1)} |"
            )
            tuned_scores[name] = result.scores.polarity_macro_f1
            tuned_means.append((result.scores.polarity_macro_f1, result.tuned_alone.polarity_macro_f1,
                                result.plain.polarity_macro_f1))
        negatives[name] = int((all_stars <= 2).sum())
        own_curve = curve_scores(split, train_vectors, train_lexicon, test_vectors, test_lexicon, encoder.fingerprint)
        files[name] = FileData(split, all_vectors, all_stars, all_lexicon, split.train_texts + split.test_texts,
                               kfold_learned, kfold_lexicon, train_vectors, train_lexicon, test_vectors, test_lexicon, own_curve)
        gains.append(kfold_learned.polarity_macro_f1 - kfold_lexicon.polarity_macro_f1)
        test_labels = pd.Series([star_label(star) for star in split.test_stars]).value_counts()
        rows.append(
            f"| {name} | {split.available:,} | {len(split.train_texts):,} | {len(split.test_texts):,} "
            f"({test_labels.get('negative', 0)}/{test_labels.get('neutral', 0)}/{test_labels.get('positive', 0)}) "
            f"| **{fmt(learned.polarity_macro_f1)}** | {fmt(lexicon.polarity_macro_f1)} "
            f"| {fmt(learned.accuracy)} | {fmt(lexicon.accuracy)} | {fmt(learned.macro_f1)} | {fmt(lexicon.macro_f1)} |"
        )
        curve = ["-" if scores is None else fmt(scores.polarity_macro_f1) for scores in own_curve]
        curve_rows.append(f"| {name} | {' | '.join(curve)} | {fmt(learned.polarity_macro_f1)} ({len(split.train_texts)}) "
                          f"| {fmt(lexicon.polarity_macro_f1)} |")
        for key, value in (("train_vectors", train_vectors), ("train_stars", split.train_stars),
                           ("train_lexicon", train_lexicon), ("test_vectors", test_vectors),
                           ("test_stars", split.test_stars), ("test_lexicon", test_lexicon)):
            pooled[key].append(value)
        pooled_texts["train_texts"].extend(split.train_texts)
        pooled_texts["test_texts"].extend(split.test_texts)
    if not rows:
        print("eval_sentiment: none of the review files is present; nothing to evaluate.", file=sys.stderr)
        return 0
    stacked: dict = {key: np.concatenate(values) for key, values in pooled.items()}
    stacked.update(pooled_texts)
    pooled_lexicon = method_scores(stacked["test_stars"], [score_label(s) for s in stacked["test_lexicon"]], stacked["test_lexicon"])
    pooled_learned = learned_scores(stacked["train_vectors"], stacked["train_stars"], stacked["train_lexicon"],
                                    stacked["test_vectors"], stacked["test_lexicon"], stacked["test_stars"],
                                    encoder.fingerprint, train_texts=stacked["train_texts"],
                                    test_texts=stacked["test_texts"])
    comparison = _pooled_at(arguments, encoder, stacked)
    pooled_row, _, _, _ = _kfold_row(
        "all five (pooled)", "-", np.concatenate([stacked["train_vectors"], stacked["test_vectors"]]),
        np.concatenate([stacked["train_stars"], stacked["test_stars"]]),
        np.concatenate([stacked["train_lexicon"], stacked["test_lexicon"]]),
        stacked["train_texts"] + stacked["test_texts"], encoder.fingerprint, arguments)
    kfold_rows.append(pooled_row)
    test_labels = pd.Series([star_label(star) for star in stacked["test_stars"]]).value_counts()
    rows.append(
        f"| all five (pooled) | - | {len(stacked['train_stars']):,} | {len(stacked['test_stars']):,} "
        f"({test_labels.get('negative', 0)}/{test_labels.get('neutral', 0)}/{test_labels.get('positive', 0)}) "
        f"| **{fmt(pooled_learned.polarity_macro_f1)}** | {fmt(pooled_lexicon.polarity_macro_f1)} "
        f"| {fmt(pooled_learned.accuracy)} | {fmt(pooled_lexicon.accuracy)} | {fmt(pooled_learned.macro_f1)} | {fmt(pooled_lexicon.macro_f1)} |"
    )
    # The product's default path: auto tuning (the second table) when it was run, else the plain encoder.
    default_scores = tuned_scores if arguments.tune_encoder == "auto" and tuned_scores else target_scores
    default_name = "auto encoder tuning, second table" if default_scores is tuned_scores else "the plain encoder, first table"
    target = [name for name, value in default_scores.items() if value >= 0.85]
    missed = [f"{name} {value:.3f} ({0.85 - value:.3f} short, {negatives[name]} negative reviews in all)"
              for name, value in default_scores.items() if value < 0.85]
    half_target = [name for name, value in half_scores.items() if value >= 0.85]
    target_line = (
        f"Target (learned polarity macro-F1 >= 0.85, clearly above the lexicon), {arguments.folds}-fold figures of "
        f"the product's default ({default_name}): met on "
        f"{', '.join(target) if target else 'none of the files'}"
        f"{'; missed on ' + ', '.join(missed) if missed else ''}; "
        f"learned minus lexicon polarity F1 ranges from {min(gains):+.3f} to {max(gains):+.3f}. "
        f"On the half/half split: met on {', '.join(half_target) if half_target else 'none of the files'}."
    )
    throughput = (f"{encoded / encode_seconds:.0f} reviews/s ({encoded:,} encoded now, the rest cached from an earlier run)"
                  if encode_seconds else "all vectors cached from an earlier run")
    markdown = f"""## Review sentiment vs withheld stars (`bench/eval_sentiment.py`)

{stamp()}

Amazon 2018 5-core review files with duplicates dropped (one copy per reviewer, summary and text: the
files repeat a review on every variant of a product, Fashion's 3,176 rows hold 447 distinct reviews), up to
{arguments.per_dataset:,} reviews sampled per file with the natural star mix. **learned** = the product's
`train_sentiment_model`: class-balanced logistic regressions on the {encoder.fingerprint.split("@")[0]} vectors of
"summary. text" (truncated to {arguments.max_seq_length} tokens), next to the vector of the summary alone
(`with_title_vectors`, zeros where a review has none), plus the lexicon score as one more input: a
3-class model decides "neutral", a dedicated positive-vs-negative model (trained on 1-2 vs 4-5 stars)
decides the polarity, with its decision threshold chosen by 5-fold cross-validation inside the training
part only; the polarity model has one more input, the margin of a lexical model (logistic regression on
hashed word 1-2 grams of the same text, sublinear tf, l2; out-of-fold margins while training, i.e.
stacking); **lexicon** = VADER with the review vocabulary, mean of the opinionated sentences, no training.
Polarity macro-F1 leaves 3-star reviews out and takes the sign of the score; accuracy and macro-F1 are
3-class (1-2 negative, 3 neutral, 4-5 positive).

**{arguments.folds}-fold cross-validation** (main figures): every review is scored once, by a model fitted on
the other folds only (so each model trains on 80% of the reviews, and the test side holds every negative
review of the file instead of half of them). Column "scored": reviews (negative/neutral/positive);
"no title vectors": the same model on the review vectors alone (model format 4, the previous version);
"thr. 0": the same model with the polarity threshold left at 0, to show what the tuned threshold adds.

| data set | reviews in file | scored (neg/neu/pos) | learned polarity F1 | no title vectors | learned, thr. 0 | lexicon polarity F1 | learned acc. | lexicon acc. | learned macro-F1 | lexicon macro-F1 |
|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(kfold_rows)}
| mean of the {len(target_scores)} files | | | **{fmt(sum(target_scores.values()) / len(target_scores))}** | {fmt(sum(untitled_scores.values()) / len(untitled_scores))} | | | | | | |

{_title_note(target_scores, untitled_scores)}

{_tuned_section(arguments, tuned_rows, tuned_means)}

{_borrowed_section(files, encoder.fingerprint, arguments)}

**Half/half split** (the earlier protocol: train on one stratified half, score the other), plain encoder:

| data set | reviews in file | train | test (neg/neu/pos) | learned polarity F1 | lexicon polarity F1 | learned acc. | lexicon acc. | learned macro-F1 | lexicon macro-F1 |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Learning curve, learned polarity macro-F1 by number of training reviews (half/half split, same test half):

| data set | 100 | 300 | all of the train half | lexicon |
|---|---|---|---|---|
{chr(10).join(curve_rows)}

{target_line} {comparison}

**Lexical channel** (model format 4 and later). Before it (format 3: vectors + lexicon score only)
learned polarity F1 was, 5-fold, same folds: Beauty 0.747, Fashion 0.806, Appliances 0.821, Gift Cards
0.869, Magazine 0.816, mean of the five 0.812, pooled 0.810 (thr. 0: 0.752 / 0.820 / 0.874 / 0.817 /
0.812, pooled 0.785). Many missed negatives read positive to a sentence encoder ("smells great for 5
minutes", "didn't work for me", "returned it"); their words say otherwise, and a linear model on hashed
word 1-2 grams (2^17 columns, scikit-learn's stateless HashingVectorizer, so the saved model is still
arrays + JSON, no vocabulary) learns them from the shop's own rated reviews. Variants measured with the
same folds (polarity F1 Beauty / Fashion / Appliances / Gift Cards / Magazine, mean of the five, pooled):
kept, stacking the word model's out-of-fold margin into the polarity model, liblinear, C=8, margin weight
1: 0.775 / 0.796 / 0.867 / 0.895 / 0.861, mean 0.839, pooled 0.856 (format 4: the first table's "no title
vectors" column). Not kept: margin
weight 2, 0.776 / 0.796 / 0.854 / 0.895 / 0.859, mean 0.836, pooled 0.852; C=2, 0.775 / 0.802 / 0.860 /
0.885 / 0.852, mean 0.835, pooled 0.842; lbfgs with 2^18 columns at C=2, mean 0.828, pooled 0.848 (and
three times slower than liblinear); char_wb 2-5 grams at C=2, 0.763 / 0.796 / 0.818 / 0.875 / 0.851,
mean 0.821, pooled 0.847; word + char_wb at C=2, mean 0.837, pooled 0.851, at C=8, 0.763 / 0.823 /
0.860 / 0.886 / 0.861, mean 0.839, pooled 0.856 (no better than words alone, 1.5x the time: about
400 character n-grams per review); concatenating the hashed words to the polarity model's input instead
of stacking (block weight 1, lbfgs), 0.757 / 0.821 / 0.895 / 0.878 / 0.844, mean 0.839, pooled 0.856,
block weight 2, 0.772 / 0.832 / 0.873 / 0.869 / 0.856, mean 0.840, pooled 0.871 (the mean of the five is a
tie with stacking, the files split both ways, the pooled row favours concatenation by 0.016; stacking is
kept because the polarity model and its five-fold threshold search stay 386 inputs wide instead of
2^17, which keeps training time down on a large shop). Also measured and not kept (a later run, same
folds; its pooled row uses another fold order, 0.854 for the kept model): the review title hashed as its
own block (tokens prefixed "t:") at weight 1, 0.782 / 0.833 / 0.886 / 0.875 / 0.861, mean 0.848, pooled
0.851 (Beauty and Fashion up, Gift Cards -0.020, pooled down); title block weight 0.5, mean 0.841,
pooled 0.855; weight 2, mean 0.836; concatenation at block weight 4, 0.782 / 0.851 / 0.802 / 0.878 /
0.868, mean 0.836, pooled 0.865; lexical margin weight 1.5, mean 0.839, pooled 0.851. Measured
2026-12-02 and not kept: naive-Bayes log-count-ratio scaling of the hashed words (NBSVM-style, ratios
from the training folds only), 0.763 / 0.818 / 0.833 / 0.895 / 0.846, mean 0.831, pooled 0.854; 3-star
reviews as extra negatives of the word model (their complaints), 0.785 / 0.782 / 0.841 / 0.856 / 0.844,
mean 0.822, pooled 0.849. Not tried: IDF weights, class-weight tweaks.

{MPNET_NOTE}

Before format 3 (3-class model only, polarity = sign of P(positive) - P(negative)), learned polarity
F1 was, 5-fold (same folds): Beauty 0.730, Fashion 0.806, Appliances 0.888, Gift Cards 0.805, Magazine
0.804, mean of the five 0.807 (format 3: 0.812; 0.815 with the threshold left at 0); half/half: Beauty 0.744,
Fashion 0.851, Appliances 0.937, Gift Cards 0.756, Magazine 0.806, pooled 0.771 (format 3: pooled 0.800).
In format 3 the cross-validated threshold helped where the training folds hold enough negatives for a stable choice
(Gift Cards +0.052, pooled +0.025, Magazine +0.004) and costs a little on the small files (Fashion
-0.014, Appliances -0.053, Beauty -0.005); it is kept because it is chosen on training data only and
the larger, steadier rows gain. Tried and not kept for format 3 (5-fold, polarity model, mean over the five files):
sentence-level lexicon inputs (min/max/mean sentence score, share of negative and positive sentences,
first and last sentence, after-"but" clause score) 0.821 at threshold 0 and 0.801 with the tuned
threshold, against 0.821 / 0.817 with the review score alone; C chosen by inner cross-validation from
1/4/16, 0.798; C=0.5 / 2 / 8: 0.747 / 0.815 / 0.821 (C=8 kept).

Encoding throughput during this run: {throughput} (load average at the end {os.getloadavg()[0]:.1f} on
{os.cpu_count()} cores). Reading the figures: 5-core Amazon data is mostly 5 stars, so the negative class is small
(counts in the "scored" column) and a handful of reviews moves its F1, hence the macro-F1, by several
points; Appliances (151 distinct reviews, 15 negatives) and Gift Cards (30 negatives among 2,181) are the
noisiest rows. Beauty stays the weakest file: 56 negatives among 1,382 reviews, many of them about a
scent or an effect that did not last, worded as praise. The lexical channel needs negatives to learn
from: with only 100 training reviews (learning curve; Gift Cards' 100 hold one or two negatives) it can
cost points, and on the half/half split the two smallest files (Fashion, Appliances: 16 and 7 training
negatives) score lower than in format 3 while Magazine and the pooled row gain.
Command: `.venv/bin/python bench/eval_sentiment.py --per-dataset {arguments.per_dataset} --max-seq-length {arguments.max_seq_length} --tune-encoder {arguments.tune_encoder} --tune-on {arguments.tune_on}`
"""
    print(markdown)
    if not arguments.no_write:
        write_section(EVALUATION, SECTION, markdown)
        print(f"wrote the {SECTION} block of {EVALUATION}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
