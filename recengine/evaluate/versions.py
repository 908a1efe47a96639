"""Encoder versions of the model registry, evaluated side by side with the active one.

A workspace evaluation runs "Embedding" and "Hybrid" with the *active* encoder (what users get). Every
other version in the registry (the base model, earlier or not yet activated fine-tunes) can be added as
"Embedding (<version>)" and "Hybrid (<version>)" rows on the same split, so the paired tests say
whether switching encoders would help. The catalog is embedded with each version through the
workspace's embedding cache, which is keyed by the model's fingerprint: a version's vectors are
computed once and reused by every later evaluation, an activation or a rollback (and the other way
round). Embedding a non-active version here records nothing as the workspace's last embedding run
and leaves its data version alone: nothing the users see changes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from recengine.errors import NotFoundError
from recengine.progress import Progress, no_progress, scaled

if TYPE_CHECKING:
    from recengine.train.registry import ModelVersion
    from recengine.workspace import Workspace

log = logging.getLogger(__name__)

# Versions evaluated when the caller does not choose: each costs one embedding of the catalog the first
# time and two more methods to fit and rank every time.
MAX_VERSIONS = 3


@dataclass(frozen=True, eq=False)
class VersionVectors:
    """The catalog embedded by one registry version (rows aligned with `item_ids`).

    Attributes:
        version_id: the registry version ("base" or a fine-tuned id).
        item_ids, vectors, fingerprint: as `recengine.embed.ItemVectors`.
        encoded: distinct texts encoded now (0 when every vector came from the cache).
        cached: distinct texts found in the cache.
        seconds: wall time, encoding included.
    """

    version_id: str
    item_ids: list[str]
    vectors: np.ndarray
    fingerprint: str
    encoded: int
    cached: int
    seconds: float


def version_label(method: str, version_id: str) -> str:
    """The row name of a method run with a non-active encoder version, e.g. 'Hybrid (ft-...)'."""
    return f"{method} ({version_id})"


def registry_versions(workspace: Workspace) -> tuple[str, list[str]]:
    """(active version id, the other version ids, newest first)."""
    from recengine.train.registry import load_registry

    state = load_registry(workspace)
    others = [version.version_id for version in state.versions if version.version_id != state.active]
    # The manifest lists fine-tuned versions oldest first after the base; newest first, base last.
    fine_tuned = [version_id for version_id in others if version_id != "base"]
    ordered = list(reversed(fine_tuned)) + [version_id for version_id in others if version_id == "base"]
    return state.active, ordered


def select_versions(
    workspace: Workspace, requested: Sequence[str] | None = None, *, limit: int = MAX_VERSIONS
) -> list[str]:
    """The registry versions to evaluate next to the active encoder.

    Args:
        workspace: the workspace whose registry is read.
        requested: None = the newest `limit` versions other than the active one; a list of version
            ids (the active one is skipped: it is the plain "Embedding"/"Hybrid" row); ["all"] = every
            other version; [] or ["none"] = none.
        limit: the cap applied when `requested` is None.

    Raises:
        NotFoundError: a requested version is not in the registry.
    """
    active, others = registry_versions(workspace)
    if requested is None:
        return others[:limit]
    wanted = [str(value).strip() for value in requested if str(value).strip()]
    if not wanted or [value.lower() for value in wanted] == ["none"]:
        return []
    if [value.lower() for value in wanted] == ["all"]:
        return others
    known = set(others) | {active}
    unknown = [value for value in wanted if value not in known]
    if unknown:
        raise NotFoundError(
            f"No encoder version {', '.join(repr(value) for value in unknown)} in this workspace.",
            hint=f"Known: {', '.join([active, *others])} (active: {active}).",
        )
    return [value for value in dict.fromkeys(wanted) if value != active]


def version_model_spec(workspace: Workspace, version: ModelVersion) -> str:
    """The `embed.model` setting that loads `version`: the configured model for the base, else the
    version's folder after its weights were checked against the manifest."""
    from recengine.train.registry import configured_model, verify_version

    if version.is_base:
        return configured_model(workspace)
    folder = verify_version(workspace, version)
    return str(folder)


def version_item_vectors(
    workspace: Workspace, version_id: str, progress: Progress | None = None
) -> VersionVectors:
    """Vectors of every catalog item with registry version `version_id`, encoding only uncached texts.

    Raises:
        NotFoundError: no such version.
        ModelError: its weights do not match the manifest, or the model cannot be loaded.
    """
    from recengine.embed import EmbeddingCache, item_texts, load_encoder, resolve_model
    from recengine.embed.cache import CacheLookup
    from recengine.embed.pipeline import EMBEDDINGS_DIR, read_precision_record
    from recengine.train.registry import load_registry

    report = progress or no_progress
    started = time.perf_counter()
    version = load_registry(workspace).version(version_id)
    spec = version_model_spec(workspace, version)
    source = resolve_model(spec)
    item_ids, texts = item_texts(workspace)  # the same texts (template) the active model embeds
    cache = EmbeddingCache(workspace.subdir(EMBEDDINGS_DIR), source.fingerprint, source.dimension)
    lookup = CacheLookup.of(cache, texts)
    missing = lookup.missing_keys
    new_vectors = None
    if missing:
        report(0.0, f"{version_id}: {lookup.cached:,} cached, encoding {len(missing):,} products")
        settings = workspace.configured_settings.embed.model_copy(update={"model": spec})
        # Reduced precision only where the embed pipeline found it keeps rankings for this model.
        record = read_precision_record(workspace, source.fingerprint) or {}
        precision = str(record.get("decision") or "fp32") if source.kind != "fake" else None
        encoder = load_encoder(settings, precision=precision)
        new_vectors = encoder.encode(lookup.missing_texts, progress=scaled(progress, 0.0, 0.97))
    vectors = lookup.complete(new_vectors, dimension=source.dimension or 0)
    report(1.0, f"{version_id}: {len(item_ids):,} products, {len(missing):,} encoded")
    return VersionVectors(
        version_id=version_id,
        item_ids=item_ids,
        vectors=vectors,
        fingerprint=source.fingerprint,
        encoded=len(missing),
        cached=lookup.cached,
        seconds=time.perf_counter() - started,
    )


def versions_vectors(
    workspace: Workspace, version_ids: Sequence[str], progress: Progress | None = None
) -> dict[str, VersionVectors]:
    """`version_item_vectors` for each version, in order (progress shared evenly)."""
    vectors: dict[str, VersionVectors] = {}
    for position, version_id in enumerate(version_ids):
        part = scaled(progress, position / len(version_ids), (position + 1) / len(version_ids))
        vectors[version_id] = version_item_vectors(workspace, version_id, part)
    return vectors
