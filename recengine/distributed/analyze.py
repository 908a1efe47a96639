"""`recengine analyze --engine ray`: the per-review text stages on a Ray cluster, the rest as always.

`recengine.text.analyze_reviews` reads the reviews, runs three per-review text stages (sentences and
their lexicon scores and candidate phrases; key phrases; aspects), decides and scores sentiment, writes
the results and refreshes the summaries. Only the per-review stages grow with the number of reviews and
parallelise, so only they move to the cluster, in two Ray Data passes over Parquet shards of the
pending reviews:

1. per review (`TextStage` tasks): `split_sentences`, `sentence_scores`, `review_phrase_keys`,
   `review_lexicon_score`;
2. on the driver, what needs every review at once, with the same functions the local path uses:
   the phrase document frequencies (`_update_keyword_model`) and the aspect lexicon (`_aspect_lexicon`);
3. per review again (`KeywordAspectStage` actors, built once with the keyword model and the lexicon):
   `tfidf_keywords` / `yake_keywords` / `embedding_keywords` and `AspectTagger.review_aspects`.

Everything else (sentiment, writes, summaries) is `analyze_reviews` itself: it is called unchanged with
its text stage swapped for this distributed one for the length of the call, so both engines write the
same rows. Review vectors for the learned sentiment model are encoded on the cluster first (cache fill,
see `recengine.distributed.embed`), so the in-process sentiment step finds them cached.
"""

from __future__ import annotations

import json
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from recengine.distributed.cluster import (
    ClusterInfo,
    actor_options,
    actor_pool,
    connect,
    import_ray,
    stopwatch,
)
from recengine.distributed.shards import rows_per_shard, write_row_shards
from recengine.errors import RecEngineError
from recengine.progress import Progress, no_progress, scaled

if TYPE_CHECKING:
    from collections.abc import Iterator

    from recengine.text import AnalysisReport
    from recengine.workspace import Workspace

SHARDS_DIR = "shards"
ROWS_PER_SHARD = 5_000
BATCH_SIZE = 500
# The swap of analyze_reviews' text stage is process-wide; one distributed analysis at a time.
_SWAP_LOCK = threading.Lock()


@dataclass(frozen=True)
class RayAnalysisReport:
    """`analyze_with_ray`'s result: the usual report plus what the cluster did."""

    cluster: ClusterInfo
    report: AnalysisReport
    distributed_reviews: int
    actors: int
    text_seconds: float


def text_stage(batch: pd.DataFrame) -> pd.DataFrame:
    """Stage 1 for a batch of (position, title, text): sentences, scores, phrase keys, surface forms."""
    from recengine.text.keywords import review_phrase_keys
    from recengine.text.sentences import as_text, review_text, split_sentences
    from recengine.text.sentiment_lexicon import review_lexicon_score, sentence_scores

    rows: dict[str, list[Any]] = {"position": [], "text": [], "sentences": [], "scores": [],
                                  "sentence_keys": [], "surface": [], "lexicon_score": []}
    for position, title, body in zip(batch["position"], batch["title"], batch["text"], strict=True):
        text = review_text(as_text(title), as_text(body))
        sentences = split_sentences(text)
        scores = sentence_scores(sentences)
        sentence_keys: list[list[str]] = []
        surface: dict[str, str] = {}
        for sentence in sentences:
            keys, sentence_surface = review_phrase_keys(sentence)
            sentence_keys.append(list(keys))
            for key, written in sentence_surface.items():
                surface.setdefault(key, written)
        rows["position"].append(int(position))
        rows["text"].append(text)
        rows["sentences"].append(list(sentences))
        rows["scores"].append([float(score) for score in scores])
        # Nested lists and an insertion-ordered dict travel as JSON: exact, and Arrow-typed either way.
        rows["sentence_keys"].append(json.dumps(sentence_keys))
        rows["surface"].append(json.dumps(surface))
        rows["lexicon_score"].append(float(review_lexicon_score(scores)))
    return pd.DataFrame(rows)


class KeywordAspectStage:
    """Stage 3 actor: key phrases and aspect mentions per review, with the workspace-wide models."""

    def __init__(self, method: str, top_n: int, keyword_model: Any, lexicon: Any, embed_settings: dict[str, Any]) -> None:
        from recengine.text.aspects import AspectTagger

        self.method = method
        self.top_n = top_n
        self.keyword_model = keyword_model
        self.tagger = AspectTagger(lexicon)
        self.encoder = None
        if method == "embedding":
            try:
                from recengine.config import EmbedSettings
                from recengine.embed import load_encoder

                self.encoder = load_encoder(EmbedSettings(**embed_settings))
            except RecEngineError:
                self.encoder = None  # as locally: tf-idf keywords when the encoder cannot be used

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        from recengine.text.keywords import embedding_keywords, tfidf_keywords, yake_keywords

        keywords: list[str] = []
        aspects: list[str] = []
        for text, sentences, scores, sentence_keys, surface in zip(
            batch["text"], batch["sentences"], batch["scores"], batch["sentence_keys"], batch["surface"], strict=True
        ):
            keys = [key for per_sentence in json.loads(sentence_keys) for key in per_sentence]
            sentences, scores = [str(value) for value in sentences], [float(value) for value in scores]
            if self.method == "yake":
                chosen = yake_keywords(text, self.top_n) if text else []
            elif self.method == "embedding" and self.encoder is not None:
                chosen = embedding_keywords(text, self.encoder, self.top_n) if keys else []
            else:
                chosen = tfidf_keywords(keys, json.loads(surface), self.keyword_model, self.top_n)
            keywords.append(json.dumps(list(chosen)))
            aspects.append(json.dumps([mention.to_json() for mention in self.tagger.review_aspects(sentences, scores)]))
        return pd.DataFrame({"position": batch["position"], "keywords": keywords, "aspects": aspects})


def _distributed_text_stages(info: ClusterInfo, work_dir: Path, workers: int | None) -> Any:
    """A drop-in for `recengine.text.analysis._analyse_texts` that runs on the cluster."""
    from recengine.text import analysis

    in_process = analysis._analyse_texts  # taken before the swap

    def analyse_texts(
        workspace: Workspace, frame: pd.DataFrame, method: str, progress: Progress, stages: dict[str, float], *, force: bool
    ) -> tuple[Any, Any, int]:
        if frame.empty:  # nothing new: no pipeline to start (it would only load the lexicon)
            return in_process(workspace, frame, method, progress, stages, force=force)
        ray = import_ray()
        elapsed = stopwatch()
        shutil.rmtree(work_dir, ignore_errors=True)
        pending = pd.DataFrame({
            "position": range(len(frame)),
            "title": frame["title"].astype(object).where(frame["title"].notna(), None).tolist(),
            "text": frame["text"].astype(object).where(frame["text"].notna(), None).tolist(),
        })
        schema = pa.schema([("position", pa.int64()), ("title", pa.string()), ("text", pa.string())])
        # Sized by the cluster's CPUs, so that every worker gets some of the reviews.
        shard_count = write_row_shards(
            pa.Table.from_pandas(pending, preserve_index=False, schema=schema), work_dir / "reviews",
            rows_per_shard(len(pending), info.cpus, ROWS_PER_SHARD),
        )
        progress(0.02, f"text stages on Ray: {len(pending):,} reviews")
        first = ray.data.read_parquet(str(work_dir / "reviews"), override_num_blocks=shard_count).map_batches(
            text_stage, batch_size=BATCH_SIZE, batch_format="pandas"
        ).materialize()
        texts = first.to_pandas().sort_values("position", kind="stable").reset_index(drop=True)
        stages["text"] = elapsed()
        progress(0.5, "sentences read; phrase frequencies and aspect lexicon")

        started = stopwatch()
        keys_per_review = [[key for keys in json.loads(value) for key in keys] for value in texts["sentence_keys"]]
        keyword_model = analysis._update_keyword_model(workspace, keys_per_review, force=force)
        sentence_phrases: list[tuple[list[str], float]] = []
        all_sentences: list[str] = []
        for sentence_keys, sentences, scores in zip(texts["sentence_keys"], texts["sentences"], texts["scores"], strict=True):
            sentence_phrases.extend(zip(json.loads(sentence_keys), [float(score) for score in scores], strict=True))
            all_sentences.extend(str(sentence) for sentence in sentences)
        lexicon, learned_terms = analysis._aspect_lexicon(workspace, sentence_phrases, all_sentences, force=force)
        actors, resources = actor_options(info, workers, want_gpu=False)
        second = first.map_batches(
            KeywordAspectStage,
            fn_constructor_kwargs={
                "method": method, "top_n": workspace.settings.text.keywords_per_review,
                "keyword_model": keyword_model, "lexicon": lexicon,
                "embed_settings": workspace.settings.embed.model_dump(),
            },
            batch_size=BATCH_SIZE, batch_format="pandas", compute=actor_pool(ray, actors), **resources,
        )
        picked = second.to_pandas().sort_values("position", kind="stable").reset_index(drop=True)
        stages["keywords"] = started()
        stages["aspects"] = 0.0  # measured together with the keywords (one pass on the cluster)
        progress(1.0, "text analysed")
        result = analysis._Pending(
            review_ids=[str(review_id) for review_id in frame["review_id"]],
            hashes=list(frame["text_hash"]),
            lexicon_scores=[float(score) for score in texts["lexicon_score"]],
            keywords=[json.loads(value) for value in picked["keywords"]],
            aspects=[json.loads(value) for value in picked["aspects"]],
        )
        analyse_texts.reviews = len(frame)  # type: ignore[attr-defined]
        analyse_texts.actors = actors  # type: ignore[attr-defined]
        analyse_texts.seconds = elapsed()  # type: ignore[attr-defined]
        return result, lexicon, learned_terms

    analyse_texts.reviews = 0  # type: ignore[attr-defined]
    analyse_texts.actors = 0  # type: ignore[attr-defined]
    analyse_texts.seconds = 0.0  # type: ignore[attr-defined]
    return analyse_texts


@contextmanager
def _text_stages_swapped(replacement: Any) -> Iterator[None]:
    # analyze_reviews has no parameter for its text stage; swap the module function for this call only.
    from recengine.text import analysis

    with _SWAP_LOCK:
        original = analysis._analyse_texts
        analysis._analyse_texts = replacement
        try:
            yield
        finally:
            analysis._analyse_texts = original


def analyze_with_ray(
    workspace: Workspace,
    *,
    force: bool = False,
    address: str | None = None,
    workers: int | None = None,
    shards: Path | str | None = None,
    progress: Progress | None = None,
) -> RayAnalysisReport:
    """`recengine.text.analyze_reviews` with its per-review text stages on a Ray cluster.

    Args:
        workspace: the workspace.
        force: re-analyse every review and retrain the model.
        address: Ray cluster address (None: a local cluster on this machine).
        workers: keyword/aspect actors (default: one per CPU of the cluster).
        shards: folder every node can read for the review shards (default `workspace/shards`).
        progress: `(fraction, message)` callback.
    """
    from recengine.text.analysis import analyze_reviews

    report = progress or no_progress
    report(0.0, "connecting to Ray")
    info = connect(address)
    root = Path(shards) if shards is not None else workspace.subdir(SHARDS_DIR)
    _fill_review_vectors(workspace, info, root, workers, scaled(progress, 0.0, 0.3))
    stages = _distributed_text_stages(info, root / "analyze", workers)
    with _text_stages_swapped(stages):
        result = analyze_reviews(workspace, progress=scaled(progress, 0.3, 1.0), force=force)
    return RayAnalysisReport(info, result, stages.reviews, stages.actors, stages.seconds)


def _fill_review_vectors(workspace: Workspace, info: ClusterInfo, root: Path, workers: int | None, progress: Progress) -> None:
    """Encode uncached review texts on the cluster, when the learned sentiment model will want them."""
    rated = workspace.store.scalar("SELECT count(rating) FROM reviews") or 0
    if int(rated) < workspace.settings.text.min_rated_reviews_for_model:
        return
    from recengine.distributed.embed import encode_on_cluster
    from recengine.embed import EmbeddingCache, resolve_model, review_texts, review_titles
    from recengine.embed.cache import CacheLookup
    from recengine.embed.pipeline import EMBEDDINGS_DIR

    try:
        source = resolve_model(workspace.settings.embed.model)
    except RecEngineError:
        return  # the sentiment step reports why it falls back to the lexicon
    cache = EmbeddingCache(workspace.subdir(EMBEDDINGS_DIR), source.fingerprint, source.dimension)
    _ids, texts = review_texts(workspace)
    _ids, titles = review_titles(workspace)  # the model reads each title's own vector too
    lookup = CacheLookup.of(cache, texts + [title for title in titles if title])
    if lookup.missing_keys:
        keys, vectors, _actors, _gpus = encode_on_cluster(
            lookup.missing_keys, lookup.missing_texts, workspace.settings.embed.model_dump(), root / "embed-reviews",
            info=info, workers=workers, progress=progress, message="encoding reviews",
        )
        cache.add(keys, vectors)
