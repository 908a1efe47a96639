"""Keeping the embedding cache bounded: drop other models' entries, and optionally unused texts."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from recengine.embed.cache import EmbeddingCache, prune_other_models, text_key
from recengine.embed.models import resolve_model
from recengine.embed.pipeline import EMBEDDINGS_DIR, INDEXES_DIR, index_name
from recengine.embed.texts import item_texts, review_texts

if TYPE_CHECKING:
    from recengine.workspace import Workspace


@dataclass(frozen=True)
class PruneReport:
    removed_models: list[str]
    removed_indexes: int
    removed_entries: int


def prune_embeddings(workspace: Workspace, *, unused_texts: bool = False, keep: Collection[str] = ()) -> PruneReport:
    """Delete cached vectors and indexes of every model but the active one.

    Args:
        unused_texts: also drop the active model's vectors of texts no item or review has any more.
        keep: fingerprints of other models whose vectors stay too (the sentiment model's tuned encoder:
            `recengine.text.analysis.sentiment_vector_fingerprints`).
    """
    fingerprint = resolve_model(workspace.settings.embed.model).fingerprint
    root = workspace.subdir(EMBEDDINGS_DIR)
    removed = prune_other_models(root, {fingerprint, *keep})
    keep_index = {f"{index_name(fingerprint)}.faiss", f"{index_name(fingerprint)}.json"}
    removed_indexes = 0
    for path in workspace.subdir(INDEXES_DIR).glob("items-*"):
        if path.name not in keep_index:
            path.unlink(missing_ok=True)
            removed_indexes += path.suffix == ".faiss"
    dropped = 0
    if unused_texts:
        _ids, texts = item_texts(workspace)
        _review_ids, reviews = review_texts(workspace)
        keep = {text_key(text) for text in [*texts, *reviews]}
        dropped = EmbeddingCache(root, fingerprint).compact(keep)

    return PruneReport(removed, removed_indexes, dropped)
