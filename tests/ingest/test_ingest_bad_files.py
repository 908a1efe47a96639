"""Files that cannot be read at all: each gives its own clear error and changes nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from recengine import errors
from recengine.config import IngestSettings
from recengine.ingest import IngestSource, ingest_files, preview_source
from recengine.workspace import Workspace

BAD_FILES = Path(__file__).parent / "bad_files"
EXPECTED = tomllib.loads((BAD_FILES / "EXPECTED.toml").read_text(encoding="utf-8"))


def test_every_bad_file_has_an_expectation() -> None:
    files = {path.name for path in BAD_FILES.iterdir() if path.name != "EXPECTED.toml"}
    assert files == set(EXPECTED)


@pytest.fixture(scope="module")
def filled_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace with one product, shared by the bad-file tests (each must leave it unchanged)."""
    workspace = Workspace.open(tmp_path_factory.mktemp("bad") / "ws")
    ingest_files(workspace, [IngestSource("catalog", "keep.csv", b"item_id,title\nKEEP,Kept\n")])
    return workspace


@pytest.mark.parametrize("file_name", sorted(EXPECTED))
def test_bad_file_gives_its_error_and_changes_nothing(filled_workspace: Workspace, file_name: str) -> None:
    workspace = filled_workspace
    expected = EXPECTED[file_name]
    error_class = getattr(errors, expected["error"])
    before = (workspace.summary(), workspace.store.get_meta("data_version"))
    assert before[0].items == 1

    with pytest.raises(error_class, match=expected["message"]) as caught:
        ingest_files(workspace, [IngestSource("catalog", file_name, BAD_FILES / file_name)])

    assert file_name in str(caught.value)  # the message names the file
    assert "\n" not in str(caught.value)  # one line, for the CLI
    after = (workspace.summary(), workspace.store.get_meta("data_version"))
    assert after == before


@pytest.mark.parametrize(
    "file_name", sorted(name for name, e in EXPECTED.items() if e["error"] == "UploadError")
)
def test_preview_refuses_bad_files_too(file_name: str) -> None:
    expected = EXPECTED[file_name]
    with pytest.raises(errors.UploadError, match=expected["message"]):
        preview_source(IngestSource("catalog", file_name, BAD_FILES / file_name))


def test_files_over_the_size_limit_are_refused(workspace: Workspace, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"item_id,title\n" + b"A,Kettle\n" * 150_000)  # about 1.3 MB
    workspace.settings.ingest.max_upload_mb = 1
    with pytest.raises(errors.UploadError, match="limit of 1 MB"):
        ingest_files(workspace, [IngestSource("catalog", big.name, big)])
    with pytest.raises(errors.UploadError, match="limit of 1 MB"):
        ingest_files(workspace, [IngestSource("catalog", big.name, big.read_bytes())])
    assert workspace.summary().ingest_batches == 0


def test_compressed_files_are_limited_after_decompression(tmp_path: Path) -> None:
    import gzip

    data = gzip.compress(
        b"item_id,title\n" + b"".join(b"A%d,Kettle number %d\n" % (i, i) for i in range(80_000))
    )
    settings = IngestSettings(max_upload_mb=1)
    from recengine.ingest.sources import load_source

    with pytest.raises(errors.UploadError, match="larger than the limit of 1 MB"):
        load_source(IngestSource("catalog", "big.csv.gz", data), settings)


def test_missing_path_is_an_upload_error(tmp_path: Path) -> None:
    with pytest.raises(errors.UploadError, match="no such file"):
        preview_source(IngestSource("catalog", "gone.csv", tmp_path / "gone.csv"))


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(errors.UploadError, match="unknown kind"):
        IngestSource("orders", "x.csv", b"a\n")  # type: ignore[arg-type]
