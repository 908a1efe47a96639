"""Model registry: the base encoder and every fine-tuned version of one workspace, exactly one active.

Layout under the workspace:

    models/encoders/registry.json      manifest: versions, the active one, activation history
    models/encoders/<version_id>/      a SentenceTransformer folder: weights as safetensors only,
                                       CARD.md and card.json (the model card)

The manifest records the sha256 of every weight file; loading a version re-checks them (cached per
file size and mtime) so a corrupted or swapped file is refused rather than silently served. Weights in
pickle-based formats (.bin, .pt, .pkl) are refused outright. Every manifest write is atomic
(`recengine.store.atomic_path`) and serialised by a file lock, so a crash leaves the previous manifest
and concurrent processes (dashboard, CLI, job worker) never lose each other's writes.

A new version is only added after its training finished: training writes into a staging folder,
which `register` moves into place with one rename, then the manifest is rewritten. A job killed
mid-run therefore leaves the manifest, the active model and every index as they were.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recengine.errors import ModelError, NotFoundError
from recengine.store import atomic_path, sha256_file
from recengine.train.card import ModelCard, load_card

if TYPE_CHECKING:
    from recengine.progress import Progress
    from recengine.workspace import Workspace

BASE_VERSION = "base"
MANIFEST = "registry.json"
WEIGHT_SUFFIXES = (".safetensors",)
FORBIDDEN_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
STAGING_PREFIX = ".staging-"

_VERIFIED: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256 already checked


@dataclass(frozen=True)
class ModelVersion:
    """One entry of the registry."""

    version_id: str
    created_at: str
    base_model: str
    path: str | None  # folder relative to models/encoders; None for the base entry
    weights: dict[str, str] = field(default_factory=dict)  # relative file -> sha256
    metrics_before: dict[str, float] = field(default_factory=dict)
    metrics_after: dict[str, float] = field(default_factory=dict)
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    pairs_per_source: dict[str, int] = field(default_factory=dict)
    duration_s: float = 0.0
    job_id: str | None = None
    note: str = ""

    @property
    def is_base(self) -> bool:
        return self.version_id == BASE_VERSION


@dataclass(frozen=True)
class RegistryState:
    """The manifest as read: versions (oldest first), the active id and the activation history."""

    versions: tuple[ModelVersion, ...]
    active: str
    history: tuple[str, ...]

    def version(self, version_id: str) -> ModelVersion:
        for version in self.versions:
            if version.version_id == version_id:
                return version
        known = ", ".join(version.version_id for version in self.versions)
        raise NotFoundError(f"No encoder version {version_id!r} in this workspace.", hint=f"Known: {known}.")

    @property
    def active_version(self) -> ModelVersion:
        return self.version(self.active)


# -- paths and locking -------------------------------------------------------------------------------


def registry_dir(workspace: Workspace) -> Path:
    """models/encoders of the workspace (not created here: reading the registry must not write)."""
    return workspace.root / "models" / "encoders"


def version_dir(workspace: Workspace, version_id: str) -> Path:
    return registry_dir(workspace) / version_id


@contextmanager
def _locked(workspace: Workspace) -> Iterator[None]:
    folder = registry_dir(workspace)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "registry.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- reading and writing the manifest ----------------------------------------------------------------


def configured_model(workspace: Workspace) -> str:
    """The model named by the workspace's settings (what 'base' means), ignoring the registry."""
    settings = getattr(workspace, "configured_settings", None) or workspace.settings
    return settings.embed.model


def _base_entry(workspace: Workspace) -> ModelVersion:
    return ModelVersion(
        version_id=BASE_VERSION,
        created_at="",
        base_model=configured_model(workspace),
        path=None,
        note="The encoder named in the workspace settings (embed.model).",
    )


def load_registry(workspace: Workspace) -> RegistryState:
    """Read the manifest; a workspace without one has only the base entry, active."""
    path = registry_dir(workspace) / MANIFEST
    base = _base_entry(workspace)
    if not path.exists():
        return RegistryState(versions=(base,), active=BASE_VERSION, history=())
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ModelError(
            f"The model registry manifest {path} is unreadable: {error}.",
            hint="Restore it from a backup or delete it to fall back to the base model.",
        ) from error
    versions = [base]
    for entry in raw.get("versions", []):
        if entry.get("version_id") == BASE_VERSION:
            continue
        known = {name: entry[name] for name in ModelVersion.__dataclass_fields__ if name in entry}
        versions.append(ModelVersion(**known))
    active = raw.get("active", BASE_VERSION)
    if active not in {version.version_id for version in versions}:
        active = BASE_VERSION
    return RegistryState(versions=tuple(versions), active=active, history=tuple(raw.get("history", [])))


def _write(workspace: Workspace, state: RegistryState) -> None:
    payload = {
        "active": state.active,
        "history": list(state.history)[-50:],
        "versions": [_entry_dict(version) for version in state.versions if not version.is_base],
        "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with atomic_path(registry_dir(workspace) / MANIFEST) as temporary:
        temporary.write_text(json.dumps(payload, indent=2), encoding="utf-8")


def _entry_dict(version: ModelVersion) -> dict[str, Any]:
    return {name: getattr(version, name) for name in ModelVersion.__dataclass_fields__}


# -- registering, verifying, activating ----------------------------------------------------------------


def new_version_id() -> str:
    return f"ft-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{secrets.token_hex(2)}"


def staging_dir(workspace: Workspace, job_id: str | None = None) -> Path:
    """A fresh folder where a training run writes its model before it is registered."""
    name = f"{STAGING_PREFIX}{job_id or secrets.token_hex(4)}"
    path = registry_dir(workspace) / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)  # creates models/encoders on first use
    return path


def clean_staging(workspace: Workspace, *, keep: str | None = None) -> int:
    """Remove staging folders left by runs that crashed or were killed; return how many."""
    removed = 0
    folder = registry_dir(workspace)
    if not folder.exists():
        return 0
    for path in folder.glob(f"{STAGING_PREFIX}*"):
        if keep is not None and path.name == f"{STAGING_PREFIX}{keep}":
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed += 1
    return removed


def register_version(
    workspace: Workspace,
    model_folder: Path,
    card: ModelCard,
    *,
    version_id: str | None = None,
    job_id: str | None = None,
) -> ModelVersion:
    """Move a finished model folder into the registry and add it to the manifest (not activated).

    Raises:
        ModelError: the folder holds no safetensors weights, or pickle-format weights.
    """
    version_id = version_id or new_version_id()
    _check_formats(model_folder)
    weights = {
        str(path.relative_to(model_folder)): sha256_file(path)
        for path in sorted(model_folder.rglob("*"))
        if path.is_file() and path.suffix in WEIGHT_SUFFIXES
    }
    if not weights:
        raise ModelError(
            f"{model_folder} holds no .safetensors weights.",
            hint="Save the model with safe_serialization=True (the default of SentenceTransformer.save).",
        )
    card.version_id = version_id
    card.save(model_folder)
    version = ModelVersion(
        version_id=version_id,
        created_at=card.created_at or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        base_model=card.base_model,
        path=version_id,
        weights=weights,
        metrics_before=dict(card.metrics_before),
        metrics_after=dict(card.metrics_after),
        hyperparameters=dict(card.hyperparameters),
        pairs_per_source=dict(card.pairs_per_source),
        duration_s=float(card.duration_s),
        job_id=job_id,
    )
    with _locked(workspace):
        target = version_dir(workspace, version_id)
        if target.exists():
            raise ModelError(f"Encoder version {version_id} already exists.")
        os.replace(model_folder, target)
        state = load_registry(workspace)
        _write(workspace, RegistryState(state.versions + (version,), state.active, state.history))
    return version


def _check_formats(folder: Path) -> None:
    forbidden = [path.name for path in folder.rglob("*") if path.suffix in FORBIDDEN_SUFFIXES]
    if forbidden:
        raise ModelError(
            f"Model folder {folder} contains pickle-format files ({', '.join(sorted(forbidden)[:3])}).",
            hint="Only safetensors weights are accepted; re-save the model with safe_serialization=True.",
        )


def verify_version(workspace: Workspace, version: ModelVersion) -> Path | None:
    """Check a version's weight files against the manifest; return its folder (None for the base).

    Raises:
        ModelError: a file is missing or its sha256 differs from the one recorded at registration.
    """
    if version.is_base or version.path is None:
        return None
    folder = registry_dir(workspace) / version.path
    if not folder.is_dir():
        raise ModelError(
            f"The folder of encoder version {version.version_id} is missing ({folder}).",
            hint="Roll back to another version or restore the folder.",
        )
    _check_formats(folder)
    for relative, expected in version.weights.items():
        path = folder / relative
        if not path.is_file():
            raise ModelError(f"Encoder version {version.version_id} lacks its weight file {relative}.")
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if _VERIFIED.get(key) == expected:
            continue
        actual = sha256_file(path)
        if actual != expected:
            raise ModelError(
                f"Weight file {relative} of encoder version {version.version_id} does not match its "
                "recorded sha256 (modified or corrupted).",
                hint="Roll back to another version; do not edit files under models/encoders.",
            )
        _VERIFIED[key] = expected
    return folder


def list_versions(workspace: Workspace) -> list[ModelVersion]:
    """All versions, base first, then fine-tuned ones oldest first."""
    return list(load_registry(workspace).versions)


def active_version(workspace: Workspace) -> ModelVersion:
    return load_registry(workspace).active_version


def active_model_setting(workspace: Workspace) -> str:
    """The model string `recengine.embed` should load: the settings' model when the base is active,
    else the verified folder of the active fine-tuned version."""
    state = load_registry(workspace)
    version = state.active_version
    if version.is_base:
        return configured_model(workspace)
    folder = verify_version(workspace, version)
    return str(folder)


def version_card(workspace: Workspace, version_id: str) -> ModelCard | None:
    state = load_registry(workspace)
    version = state.version(version_id)
    if version.path is None:
        return None
    return load_card(registry_dir(workspace) / version.path)


def activate(
    workspace: Workspace,
    version_id: str,
    *,
    reembed: bool = True,
    progress: Progress | None = None,
) -> ModelVersion:
    """Make `version_id` the active encoder, then re-embed the catalog and rebuild the index.

    The embedding cache is keyed by the model fingerprint, so the previous model's vectors stay on
    disk and a rollback is instant. The switch itself is one atomic manifest write: if re-embedding
    fails afterwards the new model is active but embeddings are simply rebuilt on next use.
    """
    with _locked(workspace):
        state = load_registry(workspace)
        version = state.version(version_id)
        verify_version(workspace, version)
        if state.active != version_id:
            history = state.history + (state.active,)
            _write(workspace, RegistryState(state.versions, version_id, history))
    _after_switch(workspace, reembed=reembed, progress=progress)
    return version


def rollback(
    workspace: Workspace, *, reembed: bool = True, progress: Progress | None = None
) -> ModelVersion:
    """Re-activate the version that was active before the current one (the base when none).

    Raises:
        NotFoundError: nothing to roll back to (the base is active and there is no history).
    """
    with _locked(workspace):
        state = load_registry(workspace)
        known = {version.version_id for version in state.versions}
        history = [version_id for version_id in state.history if version_id in known]
        while history and history[-1] == state.active:
            history.pop()
        if history:
            target = history.pop()
        elif state.active != BASE_VERSION:
            target = BASE_VERSION
        else:
            raise NotFoundError("The base encoder is active and there is nothing to roll back to.")
        version = state.version(target)
        verify_version(workspace, version)
        _write(workspace, RegistryState(state.versions, target, tuple(history)))
    _after_switch(workspace, reembed=reembed, progress=progress)
    return version


def _after_switch(workspace: Workspace, *, reembed: bool, progress: Progress | None) -> None:
    # Pages cache on data_version: bump it so they pick up vectors of the new model.
    _bump_data_version(workspace)
    if not reembed:
        return
    try:
        from recengine.embed import item_index, item_vectors
    except ImportError:  # pragma: no cover - the embedding module ships with recengine
        return
    from recengine.progress import scaled

    # Vectors of the previous model stay in the cache (keyed by model fingerprint): rollback is instant.
    item_vectors(workspace, progress=scaled(progress, 0.0, 0.8))
    item_index(workspace, progress=scaled(progress, 0.8, 1.0))
    if progress is not None:
        progress(1.0, "encoder switched")


def _bump_data_version(workspace: Workspace) -> None:
    try:
        from recengine.embed.pipeline import bump_data_version
    except ImportError:  # pragma: no cover
        current = workspace.store.get_meta("data_version") or "0"
        workspace.store.set_meta("data_version", str(int(current) + 1) if current.isdigit() else "1")
        return
    bump_data_version(workspace)


def describe(workspace: Workspace) -> list[dict[str, Any]]:
    """One row per version for tables: id, active marker, base, created, key metrics, pairs."""
    state = load_registry(workspace)
    rows = []
    for version in state.versions:
        before = version.metrics_before.get("ndcg@10")
        after = version.metrics_after.get("ndcg@10")
        rows.append(
            {
                "active": "●" if version.version_id == state.active else "",
                "version": version.version_id,
                "base model": version.base_model,
                "created": version.created_at,
                # Versions trained before objectives existed used pairs.
                "objective": "" if version.is_base else version.hyperparameters.get("objective", "pairs"),
                "ndcg@10 before": before,
                "ndcg@10 after": after,
                "recall@10 after": version.metrics_after.get("recall@10"),
                "pairs": sum(version.pairs_per_source.values()) if version.pairs_per_source else None,
                "training s": version.duration_s or None,
            }
        )
    return rows
