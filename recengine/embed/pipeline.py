"""Workspace embeddings: texts -> cache lookup -> encode only what is missing -> vectors and index.

Everything here works from the workspace store and its `embed`/`index` settings. The encoder is loaded
only when some text is not cached, so an unchanged workspace costs hashing and a lookup.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from recengine.embed.cache import CacheLookup, EmbeddingCache, model_folder_name, text_key
from recengine.embed.encoder import Encoder, encoder_runtime, load_encoder
from recengine.embed.models import resolve_model
from recengine.embed.precision import PrecisionAgreement, measure_agreement
from recengine.embed.texts import item_texts, review_texts, review_titles
from recengine.errors import IndexFileError, NotFoundError
from recengine.progress import Progress, scaled
from recengine.store import write_text_atomic

if TYPE_CHECKING:
    from recengine.config import EmbedSettings
    from recengine.index import ItemIndex
    from recengine.workspace import Workspace

log = logging.getLogger(__name__)

EMBEDDINGS_DIR = "embeddings"
INDEXES_DIR = "indexes"
LAST_RUN_FILE = "last_run.json"
PRECISION_FILE = "precision.json"
# Texts sampled to compare a reduced precision with fp32 the first time it is used in a workspace. The
# check costs a second (fp32) model and two encodes of the sample, so it runs only once enough texts are
# to be encoded for it to be a small share of the work; smaller runs use the reduced precision, whose
# agreement was measured on this model beforehand (docs/BENCHMARKS.md).
AGREEMENT_SAMPLE = 128
AGREEMENT_MIN_TEXTS = 512
# Above this share of changed items, rebuilding is cheaper and keeps an approximate index balanced.
INCREMENTAL_LIMIT = 0.5


@dataclass(frozen=True, eq=False)
class ItemVectors:
    """One vector per item of the catalog, rows aligned with `item_ids`."""

    item_ids: list[str]
    vectors: np.ndarray
    fingerprint: str


@dataclass(frozen=True, eq=False)
class ReviewVectors:
    """One vector per review, rows aligned with `review_ids`."""

    review_ids: list[str]
    vectors: np.ndarray
    fingerprint: str


@dataclass(frozen=True)
class EncodeRun:
    """What one embedding pass did (the last one per kind is recorded for status)."""

    kind: str
    texts: int
    unique_texts: int
    cache_hits: int
    encoded: int
    seconds: float
    fingerprint: str
    device: str
    precision: str
    finished_at: str

    @property
    def hit_rate(self) -> float:
        return self.cache_hits / self.unique_texts if self.unique_texts else 1.0


@dataclass(frozen=True)
class IndexRun:
    """What `item_index` did: loaded as is, updated in place, or rebuilt (and why)."""

    action: str  # "unchanged", "updated", "built"
    reason: str
    kind: str
    factory: str
    size: int
    added: int = 0
    updated: int = 0
    removed: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class SimilarItem:
    item_id: str
    rank: int
    similarity: float


@dataclass(frozen=True)
class EmbedReport:
    """Result of `embed_workspace`: the passes run and what happened to the index."""

    items: EncodeRun
    index: IndexRun
    reviews: EncodeRun | None = None
    extra: dict[str, object] = field(default_factory=dict)


# -- vectors -----------------------------------------------------------------------------------------


def item_vectors(workspace: Workspace, progress: Progress | None = None) -> ItemVectors:
    """Vectors of every item of the catalog (placeholders included), encoding only uncached texts."""
    item_ids, vectors, fingerprint, _keys, _run = _item_vectors_and_keys(workspace, progress)
    return ItemVectors(item_ids, vectors, fingerprint)


def review_vectors(workspace: Workspace, progress: Progress | None = None, *, model: str | None = None) -> ReviewVectors:
    """Vectors of every review, encoding only uncached texts.

    `model` (a bundled name or a SentenceTransformer folder) replaces the `embed.model` setting: the
    sentiment stage's copy of the encoder tuned for sentiment (recengine.text.sentiment_encoder). Its
    vectors are cached under their own fingerprint and recorded as their own kind of run.
    """
    review_ids, texts = review_texts(workspace)
    settings = workspace.settings.embed
    if model is not None:
        settings = settings.model_copy(update={"model": model})
    kind = "reviews" if model is None else "sentiment reviews"
    vectors, fingerprint, _keys, _run = _vectors_for(workspace, texts, kind, progress, settings=settings)
    return ReviewVectors(review_ids, vectors, fingerprint)


def cached_review_vectors(workspace: Workspace) -> ReviewVectors:
    """The vectors of the reviews the embedding cache already holds for the active model; nothing is encoded.

    Review analysis (`recengine analyze`) and `recengine embed` encode the reviews; the recommender reads
    what they left, so fitting it never waits for an encoder. Reviews not encoded yet are left out.
    """
    review_ids, texts = review_texts(workspace)
    source = resolve_model(workspace.settings.embed.model)
    cache = EmbeddingCache(workspace.subdir(EMBEDDINGS_DIR), source.fingerprint, source.dimension)
    lookup = CacheLookup.of(cache, texts)
    row_of = {key: row for row, (key, hit) in enumerate(zip(lookup.unique_keys, lookup.found, strict=True)) if hit}
    found = [index for index, key in enumerate(lookup.keys) if key in row_of]
    rows = np.array([row_of[lookup.keys[index]] for index in found], dtype=np.int64)
    vectors = lookup.unique_vectors[rows] if len(rows) else np.zeros((0, source.dimension or 0), dtype=np.float32)
    return ReviewVectors([review_ids[index] for index in found], vectors, source.fingerprint)


def review_title_vectors(workspace: Workspace, progress: Progress | None = None) -> ReviewVectors:
    """The vector of every review's title alone (zeros for a review without one), rows as `review_vectors`.

    The learned sentiment model reads them next to the review vectors (recengine.text.sentiment_model): a
    title is the reviewer's verdict in a few words, which the vector of the whole review dilutes.
    Titles are short and repeat ("Five Stars"), so encoding them costs a fraction of the reviews.
    """
    review_ids, titles = review_titles(workspace)
    titled = [index for index, title in enumerate(titles) if title]
    found, fingerprint, _keys, _run = _vectors_for(workspace, [titles[i] for i in titled], "review titles", progress)
    dimension = (found.shape[1] if found.ndim == 2 else 0) or resolve_model(workspace.settings.embed.model).dimension or 0
    vectors = np.zeros((len(review_ids), dimension), dtype=np.float32)
    if titled:
        vectors[titled] = found
    return ReviewVectors(review_ids, vectors, fingerprint)


def encode_query(workspace: Workspace, text: str) -> np.ndarray:
    """The vector of a free-text query, shape (dimension,), with the workspace's active model."""
    encoder = _encoder(workspace, [text])
    return encoder.encode([text])[0]


def _item_vectors_and_keys(
    workspace: Workspace, progress: Progress | None
) -> tuple[list[str], np.ndarray, str, list[str], EncodeRun]:
    report = progress or (lambda fraction, message: None)
    report(0.0, "reading products")
    item_ids, texts = item_texts(workspace)
    vectors, fingerprint, keys, run = _vectors_for(workspace, texts, "items", scaled(progress, 0.02, 1.0))
    return item_ids, vectors, fingerprint, keys, run


def _vectors_for(
    workspace: Workspace, texts: Sequence[str], kind: str, progress: Progress | None,
    *, settings: EmbedSettings | None = None,
) -> tuple[np.ndarray, str, list[str], EncodeRun]:
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    settings = settings or workspace.settings.embed
    source = resolve_model(settings.model)
    cache = EmbeddingCache(workspace.subdir(EMBEDDINGS_DIR), source.fingerprint, source.dimension)
    lookup = CacheLookup.of(cache, texts)
    missing = lookup.missing_keys
    device, precision = "-", "-"
    new_vectors = None
    if missing:
        report(0.0, f"{lookup.cached:,} cached, encoding {len(missing):,} {kind}")
        encoder = _encoder(workspace, lookup.missing_texts, settings)
        device = getattr(encoder, "device", "cpu")
        precision = getattr(encoder, "precision", "fp32")
        new_vectors = encoder.encode(lookup.missing_texts, progress=scaled(progress, 0.0, 0.97))
    vectors = lookup.complete(new_vectors, dimension=source.dimension or 0)
    keys = lookup.keys
    run = EncodeRun(
        kind=kind,
        texts=len(texts),
        unique_texts=len(lookup.unique_keys),
        cache_hits=lookup.cached,
        encoded=len(missing),
        seconds=round(time.perf_counter() - started, 4),
        fingerprint=source.fingerprint,
        device=device,
        precision=precision,
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    _record_run(workspace, kind, asdict(run))
    if missing:
        bump_data_version(workspace)
    report(1.0, f"{len(texts):,} {kind}: {run.cache_hits:,} cached, {len(missing):,} encoded")
    return vectors, source.fingerprint, keys, run


# -- encoder and precision -----------------------------------------------------------------------------


def _encoder(workspace: Workspace, sample_texts: Sequence[str], settings: EmbedSettings | None = None) -> Encoder:
    """The active encoder (or the one `settings` name), in reduced precision only where its agreement
    with fp32 was found good."""
    settings = settings or workspace.settings.embed
    runtime = encoder_runtime(settings)
    if runtime.precision == "fp32":
        return load_encoder(settings)
    decision = _precision_decision(workspace, runtime.fingerprint, runtime.precision, runtime.device)
    if decision is None:
        agreement = _measure_precision(settings, sample_texts, runtime.precision)
        if agreement is None:
            return load_encoder(settings)  # too few texts to judge yet; measured on a later, larger run
        # Reduced precision must keep rankings and actually be faster here: under heavy CPU contention
        # bf16 measured 0.5x of fp32 on a machine where it is 2x faster when idle.
        decision = runtime.precision if agreement.acceptable and agreement.faster else "fp32"
        if decision == "fp32":
            log.warning(
                "%s on %s: mean cosine %.4f, top-10 overlap %.3f, %.2fs vs fp32 %.2fs; using fp32",
                runtime.precision, runtime.device, agreement.mean_cosine, agreement.top10_overlap,
                agreement.reduced_seconds or 0.0, agreement.fp32_seconds or 0.0,
            )
        _record_precision(workspace, runtime.fingerprint, runtime.device, agreement, decision)
    return load_encoder(settings, precision=decision)


def _measure_precision(settings: object, texts: Sequence[str], precision: str) -> PrecisionAgreement | None:
    if len(texts) < AGREEMENT_MIN_TEXTS:
        return None
    step = max(1, len(texts) // AGREEMENT_SAMPLE)
    sample = list(texts[::step][:AGREEMENT_SAMPLE])
    timed: dict[str, tuple[np.ndarray, float]] = {}
    for name in (precision, "fp32"):
        encoder = load_encoder(settings, precision=name)  # type: ignore[arg-type]
        encoder.encode(sample[:8])  # warm-up: the first call pays one-off kernel setup
        started = time.perf_counter()
        timed[name] = (encoder.encode(sample), time.perf_counter() - started)
    agreement = measure_agreement(timed[precision][0], timed["fp32"][0], precision)
    return replace(agreement, reduced_seconds=round(timed[precision][1], 4), fp32_seconds=round(timed["fp32"][1], 4))


def _precision_path(workspace: Workspace, fingerprint: str) -> Path:
    return workspace.subdir(EMBEDDINGS_DIR) / model_folder_name(fingerprint) / PRECISION_FILE


def _precision_decision(workspace: Workspace, fingerprint: str, precision: str, device: str) -> str | None:
    record = read_precision_record(workspace, fingerprint)
    if record and record.get("precision") == precision and record.get("device") == device.split(":")[0]:
        return str(record.get("decision"))
    return None


def read_precision_record(workspace: Workspace, fingerprint: str) -> dict[str, object] | None:
    """The recorded agreement of the reduced precision with fp32 for this model, if measured."""
    path = _precision_path(workspace, fingerprint)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _record_precision(
    workspace: Workspace, fingerprint: str, device: str, agreement: PrecisionAgreement, decision: str
) -> None:
    record = {
        "precision": agreement.precision,
        "device": device.split(":")[0],
        "mean_cosine": round(agreement.mean_cosine, 5),
        "top10_overlap": round(agreement.top10_overlap, 4),
        "sample_size": agreement.sample_size,
        "seconds": agreement.reduced_seconds,
        "fp32_seconds": agreement.fp32_seconds,
        "decision": decision,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_text_atomic(_precision_path(workspace, fingerprint), json.dumps(record, indent=2))


# -- index ---------------------------------------------------------------------------------------------


def item_index(workspace: Workspace, progress: Progress | None = None) -> ItemIndex:
    """The FAISS index of the item vectors of the active model: loaded, updated in place or rebuilt."""
    index, _run = ensure_item_index(workspace, progress)
    return index


def saved_item_index(workspace: Workspace) -> ItemIndex | None:
    """The saved index of the active model as it is (possibly stale), or None; never encodes or builds."""
    from recengine.index import load_index

    fingerprint = resolve_model(workspace.settings.embed.model).fingerprint
    try:
        index = load_index(workspace.root / INDEXES_DIR, index_name(fingerprint), expect_fingerprint=fingerprint)
    except IndexFileError:
        return None
    index.nprobe, index.ef_search = workspace.settings.index.nprobe, workspace.settings.index.ef_search
    return index


def index_name(fingerprint: str) -> str:
    return f"items-{model_folder_name(fingerprint)}"


def ensure_item_index(
    workspace: Workspace,
    progress: Progress | None = None,
    *,
    prepared: tuple[list[str], np.ndarray, list[str]] | None = None,
) -> tuple[ItemIndex, IndexRun]:
    """Like `item_index`, also saying what was done (for the CLI and the dashboard).

    Args:
        prepared: (item ids, vectors, content keys) just computed by the caller, to avoid a second pass.
    """
    from recengine.index import ItemIndex, choose_factory, index_kind, load_index, save_index

    started = time.perf_counter()
    report = scaled(progress, 0.8, 1.0)
    fingerprint = resolve_model(workspace.settings.embed.model).fingerprint
    vectors: np.ndarray | None = None
    if prepared is not None:
        item_ids, vectors, keys = prepared
    else:
        # Texts and their keys first: an index that is up to date needs no vectors at all.
        item_ids, texts = item_texts(workspace)
        keys = [text_key(text) for text in texts]
    directory = workspace.subdir(INDEXES_DIR)
    name = index_name(fingerprint)
    wanted = choose_factory(len(item_ids), workspace.settings.index)
    index: ItemIndex | None
    reason = ""
    try:
        index = load_index(directory, name, expect_fingerprint=fingerprint)
        # Search-time settings follow the configuration, not what the index was saved with.
        index.nprobe, index.ef_search = workspace.settings.index.nprobe, workspace.settings.index.ef_search
    except IndexFileError as error:
        index, reason = None, "no saved index"
        if (directory / f"{name}.json").exists():
            reason = str(error)
            log.warning("rebuilding the item index: %s", error)
    if index is not None:
        reason = _rebuild_reason(index, wanted, vectors.shape[1] if vectors is not None and vectors.ndim == 2 else 0)
        if reason:
            index = None
    if index is not None:
        saved = dict(zip(index.item_ids, index.content_keys or [], strict=True))
        current = dict(zip(item_ids, keys, strict=True))
        removed = [item_id for item_id in saved if item_id not in current]
        changed = [item_id for item_id, key in current.items() if saved.get(item_id) != key]
        added = sum(1 for item_id in changed if item_id not in saved)
        if not removed and not changed:
            run = IndexRun("unchanged", "", index.kind, index.factory, len(index),
                           seconds=round(time.perf_counter() - started, 4))
            _record_run(workspace, "index", asdict(run))
            report(1.0, f"index up to date ({len(index):,} items)")
            return index, run
    if vectors is None:
        vectors, _fingerprint, _keys, _run = _vectors_for(workspace, texts, "items", scaled(progress, 0.0, 0.8))
    if vectors.ndim != 2 or vectors.shape[1] == 0:
        # An empty catalog with nothing cached: only the model knows the dimension of its (empty) index.
        vectors = np.empty((0, _encoder(workspace, []).dimension), dtype=np.float32)
    if index is not None:
        if len(removed) + len(changed) <= INCREMENTAL_LIMIT * max(len(item_ids), 1):
            report(0.0, f"updating the index: {len(changed):,} new or changed, {len(removed):,} removed")
            index.remove(removed)
            if changed:
                row_of = {item_id: row for row, item_id in enumerate(item_ids)}
                rows = [row_of[item_id] for item_id in changed]
                index.upsert(changed, vectors[rows], [keys[row] for row in rows])
            save_index(index, directory, name)
            run = IndexRun("updated", "items changed", index.kind, index.factory, len(index),
                           added=added, updated=len(changed) - added, removed=len(removed),
                           seconds=round(time.perf_counter() - started, 4))
            _record_run(workspace, "index", asdict(run))
            bump_data_version(workspace)
            report(1.0, f"index updated ({len(index):,} items)")
            return index, run
        reason = "most items changed"
    report(0.0, f"building a {index_kind(wanted)} index over {len(item_ids):,} items")
    index = ItemIndex.build(
        item_ids, vectors, factory=wanted, fingerprint=fingerprint, content_keys=keys,
        nprobe=workspace.settings.index.nprobe, ef_search=workspace.settings.index.ef_search, progress=report,
    )
    save_index(index, directory, name)
    run = IndexRun("built", reason or "no saved index", index.kind, index.factory, len(index),
                   added=len(item_ids), seconds=round(time.perf_counter() - started, 4))
    _record_run(workspace, "index", asdict(run))
    bump_data_version(workspace)
    return index, run


def _rebuild_reason(index: ItemIndex, wanted_factory: str, dimension: int) -> str:
    from recengine.index import index_kind, nlist_for  # noqa: F401 - nlist_for documents the rule

    if index.content_keys is None:
        return "saved index has no content keys"
    if dimension and index.dimension != dimension:
        return f"dimension changed ({index.dimension} -> {dimension})"
    if index.kind != index_kind(wanted_factory):
        return f"catalog size now calls for {wanted_factory} (was {index.factory})"
    if index.kind == "ivf":
        # The number of lists follows the catalog size; rebuild only when it is off by 4x or more.
        have, want = _ivf_lists(index.factory), _ivf_lists(wanted_factory)
        if have and want and not (want / 4 < have < want * 4):
            return f"catalog size now calls for {wanted_factory} (was {index.factory})"
        return ""
    if index.factory != wanted_factory:
        return f"index.approximate_factory changed to {wanted_factory}"
    return ""


def _ivf_lists(factory: str) -> int:
    head = factory.split(",")[0].upper()
    digits = "".join(character for character in head[3:] if character.isdigit())
    return int(digits) if digits else 0


# -- similar items -------------------------------------------------------------------------------------


def similar_items(
    workspace: Workspace,
    item_id: str,
    k: int = 10,
    *,
    same_category: bool = False,
    exclude: Collection[str] = (),
    index: ItemIndex | None = None,
) -> list[SimilarItem]:
    """The k items closest to `item_id` by cosine of their embeddings (the item itself excluded).

    Args:
        same_category: only items of the same category path.
        exclude: further item ids never returned.
        index: an index already at hand (the dashboard's cached one); built or loaded when None.

    Raises:
        NotFoundError: no item with that id.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    index = index if index is not None else item_index(workspace)
    if item_id not in index:
        workspace.item(item_id)  # raises NotFoundError with the usual message when unknown
        raise NotFoundError(f"Product {item_id!r} has no embedding yet.", hint="Run `recengine embed`.")
    restrict = None
    if same_category:
        rows = workspace.store.query_rows(
            "SELECT item_id FROM items WHERE category IS NOT DISTINCT FROM "
            "(SELECT category FROM items WHERE item_id = ?)",
            [item_id],
        )
        restrict = [row[0] for row in rows]
    hits = index.search(index.vector(item_id), k, exclude={item_id, *exclude}, restrict_to=restrict)[0]
    return [SimilarItem(hit_id, rank, round(score, 6)) for rank, (hit_id, score) in enumerate(hits, start=1)]


# -- one call for the CLI and the dashboard --------------------------------------------------------------


def embed_workspace(
    workspace: Workspace, *, reviews: bool = False, progress: Progress | None = None
) -> EmbedReport:
    """Bring item embeddings and the item index (and optionally review embeddings) up to date."""
    items_end = 0.7 if reviews else 1.0
    item_ids, vectors, _fingerprint, keys, items_run = _item_vectors_and_keys(
        workspace, scaled(progress, 0.0, 0.8 * items_end)
    )
    _index, index_run = ensure_item_index(
        workspace, scaled(progress, 0.0, items_end), prepared=(item_ids, vectors, keys)
    )
    review_run = None
    if reviews:
        review_vectors(workspace, scaled(progress, items_end, 1.0))
        review_run = last_runs(workspace).get("reviews")
    return EmbedReport(items=items_run, index=index_run, reviews=review_run)  # type: ignore[arg-type]


# -- records -------------------------------------------------------------------------------------------


def _record_run(workspace: Workspace, kind: str, values: dict[str, object]) -> None:
    path = workspace.subdir(EMBEDDINGS_DIR) / LAST_RUN_FILE
    try:
        runs = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        runs = {}
    runs[kind] = values
    write_text_atomic(path, json.dumps(runs, indent=2))


def last_runs(workspace: Workspace) -> dict[str, EncodeRun | IndexRun]:
    """The last recorded pass of each kind ("items", "reviews", "index")."""
    path = workspace.root / EMBEDDINGS_DIR / LAST_RUN_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    runs: dict[str, EncodeRun | IndexRun] = {}
    for kind, values in raw.items():
        try:
            runs[kind] = IndexRun(**values) if kind == "index" else EncodeRun(**values)
        except TypeError:
            continue
    return runs


def bump_data_version(workspace: Workspace) -> None:
    """Tell UI caches that derived data changed (meta key `data_version`, a string counter)."""
    with workspace.store.transaction() as connection:
        row = connection.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()
        try:
            version = int(row[0]) + 1 if row and row[0] is not None else 1
        except ValueError:
            version = 1
        connection.execute(
            "INSERT INTO meta VALUES ('data_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [str(version)],
        )
