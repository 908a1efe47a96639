"""The "embeddings" section of `recengine status` and of the dashboard's workspace status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from recengine.embed.cache import EmbeddingCache, cached_models, text_key
from recengine.embed.encoder import encoder_runtime
from recengine.embed.pipeline import (
    EMBEDDINGS_DIR,
    INDEXES_DIR,
    EncodeRun,
    index_name,
    last_runs,
    read_precision_record,
)
from recengine.embed.texts import item_texts
from recengine.errors import RecEngineError
from recengine.status import register_status_section

if TYPE_CHECKING:
    from recengine.workspace import Workspace


@dataclass(frozen=True)
class EmbeddingStatus:
    """Model, device, cache and index state of a workspace; computed without loading the model."""

    model: str
    fingerprint: str
    device: str
    precision: str
    precision_agreement: str
    items: int
    items_embedded: int
    embeddings: str  # "fresh", "stale" (some items not embedded) or "none"
    cache_entries: int
    other_models_cached: int
    last_run_hit_rate: float | None
    last_run_encoded: int | None
    last_run_at: str | None
    index_kind: str
    index_factory: str
    index_size: int
    index: str  # "fresh", "stale" or "missing"
    problem: str = ""

    @property
    def fresh(self) -> bool:
        return self.embeddings in ("fresh", "none") and self.index in ("fresh", "missing") and (
            self.index == "fresh" or self.items == 0
        )


def embedding_status(workspace: Workspace) -> EmbeddingStatus:
    """What is embedded and indexed, and whether it matches the current items and model."""
    settings = workspace.settings.embed
    try:
        runtime = encoder_runtime(settings, load_torch=False)
    except RecEngineError as error:
        return _broken(settings.model, str(error))
    item_ids, texts = item_texts(workspace)
    keys = [text_key(text) for text in texts]
    embeddings_root = workspace.root / EMBEDDINGS_DIR
    cache = EmbeddingCache(embeddings_root, runtime.fingerprint)
    cached_keys = cache.keys()
    cached_set = set(cached_keys)
    embedded_items = sum(1 for key in keys if key in cached_set)
    index_kind, index_factory, index_size, index_state = _index_state(workspace, runtime.fingerprint, item_ids, keys)
    items_run = last_runs(workspace).get("items")
    record = read_precision_record(workspace, runtime.fingerprint)
    agreement = "-"
    if record:
        agreement = (
            f"{record.get('precision')} vs fp32: mean cosine {record.get('mean_cosine')}, "
            f"top-10 overlap {record.get('top10_overlap')} on {record.get('sample_size')} texts "
            f"({record.get('seconds')} s vs fp32 {record.get('fp32_seconds')} s); using {record.get('decision')}"
        )
    precision = runtime.precision
    if record and record.get("precision") == precision and record.get("decision"):
        precision = str(record["decision"])
    return EmbeddingStatus(
        model=settings.model,
        fingerprint=runtime.fingerprint,
        device=runtime.device,
        precision=precision,
        precision_agreement=agreement,
        items=len(item_ids),
        items_embedded=embedded_items,
        embeddings="none" if not item_ids else ("fresh" if embedded_items == len(item_ids) else "stale"),
        cache_entries=len(cached_keys),
        other_models_cached=len([fp for fp in cached_models(embeddings_root) if fp != runtime.fingerprint]),
        last_run_hit_rate=round(items_run.hit_rate, 4) if isinstance(items_run, EncodeRun) else None,
        last_run_encoded=items_run.encoded if isinstance(items_run, EncodeRun) else None,
        last_run_at=items_run.finished_at if isinstance(items_run, EncodeRun) else None,
        index_kind=index_kind,
        index_factory=index_factory,
        index_size=index_size,
        index=index_state,
    )


def _index_state(
    workspace: Workspace, fingerprint: str, item_ids: list[str], keys: list[str]
) -> tuple[str, str, int, str]:
    from recengine.errors import IndexFileError
    from recengine.index import read_sidecar

    try:
        sidecar = read_sidecar(workspace.root / INDEXES_DIR, index_name(fingerprint))
    except IndexFileError:
        return "-", "-", 0, "missing"
    kind, factory, size = str(sidecar.get("kind")), str(sidecar.get("factory")), int(sidecar.get("count") or 0)  # type: ignore[call-overload]
    saved = dict(zip(sidecar.get("item_ids") or [], sidecar.get("content_keys") or [], strict=False))  # type: ignore[arg-type]
    fresh = sidecar.get("fingerprint") == fingerprint and saved == dict(zip(item_ids, keys, strict=True))
    return kind, factory, size, "fresh" if fresh else "stale"


def _broken(model: str, problem: str) -> EmbeddingStatus:
    return EmbeddingStatus(
        model=model, fingerprint="-", device="-", precision="-", precision_agreement="-", items=0,
        items_embedded=0, embeddings="none", cache_entries=0, other_models_cached=0, last_run_hit_rate=None,
        last_run_encoded=None, last_run_at=None, index_kind="-", index_factory="-", index_size=0,
        index="missing", problem=problem,
    )


register_status_section("embeddings", embedding_status)
