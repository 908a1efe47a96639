"""Every real file in ../shared/data ingests with nothing lost (slow; skipped where the data is absent).

One workspace per data set folder. For each file: the outcomes add up to the rows read, the rows read
equal the file's data lines, the rejects table holds exactly the rejected rows, and the stored tables
hold exactly the accepted ids (plus placeholders). Run with `-s` to see the counts per file.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pytest

from recengine.ingest import IngestSource, ingest_files
from recengine.workspace import Workspace

_spec = importlib.util.spec_from_file_location(
    "_root_conftest", Path(__file__).resolve().parents[1] / "conftest.py"
)
assert _spec and _spec.loader
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
shared_data_or_skip = _root.shared_data_or_skip

DATASETS: dict[str, list[tuple[str, str]]] = {
    "amazon2018-giftcards": [("catalog", "meta_Gift_Cards.json.gz"), ("reviews", "Gift_Cards_5.json.gz")],
    "amazon2018-magazine": [
        ("catalog", "meta_Magazine_Subscriptions.json.gz"),
        ("reviews", "Magazine_Subscriptions_5.json.gz"),
        ("reviews", "Magazine_Subscriptions.csv"),  # header-less: item, user, rating, unix time
    ],
    "amazon2018-5core": [
        ("reviews", "All_Beauty_5.json.gz"),
        ("reviews", "Appliances_5.json.gz"),
        ("reviews", "AMAZON_FASHION_5.json.gz"),
    ],
    "grocery2014-rechorus": [
        ("catalog", "item_meta.csv"),
        ("interactions", "train.csv"),
        ("interactions", "dev.csv"),
        ("interactions", "test.csv"),
    ],
}
HEADER_LESS = {"Magazine_Subscriptions.csv"}


def data_lines(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        lines = sum(1 for line in handle if line.strip())
    has_header = path.suffix == ".csv" and path.name not in HEADER_LESS
    return lines - (1 if has_header else 0)


@pytest.mark.slow
@pytest.mark.parametrize("folder", sorted(DATASETS))
def test_every_shared_file_ingests_with_nothing_lost(tmp_path: Path, folder: str) -> None:
    base = shared_data_or_skip(folder)
    workspace = Workspace.open(tmp_path / folder)
    sources = [IngestSource(kind, name, base / name) for kind, name in DATASETS[folder]]  # type: ignore[arg-type]
    report = ingest_files(workspace, sources)

    print()
    for file_report in report.files:
        print(
            f"{folder}/{file_report.file_name}: read {file_report.rows_read}, accepted {file_report.accepted}, "
            f"updated {file_report.updated}, duplicate {file_report.duplicate}, rejected {file_report.rejected} "
            f"{file_report.reasons or ''}, placeholders {file_report.placeholders} "
            f"(filled {file_report.placeholders_filled}), new users {file_report.new_users}"
        )
        outcome = file_report.accepted + file_report.updated + file_report.duplicate + file_report.rejected
        assert outcome == file_report.rows_read
        assert file_report.rows_read == data_lines(base / file_report.file_name)
        stored_rejects = workspace.store.scalar(
            "SELECT count(*) FROM rejects WHERE batch_id = ?", [file_report.batch_id]
        )
        assert stored_rejects == file_report.rejected
        assert file_report.rejected <= file_report.rows_read * 0.01  # real data: rejects are rare
    assert report.nothing_lost

    def total(kind: str, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in report.files if f.kind == kind)

    summary = workspace.summary()
    # Accepted means "new id": the tables hold exactly the accepted ids, plus placeholder products.
    assert summary.reviews == total("reviews", "accepted")
    assert summary.interactions == total("interactions", "accepted")
    assert summary.items == total("catalog", "accepted") + report.placeholders - total(
        "catalog", "placeholders_filled"
    )
    assert summary.placeholder_items == report.placeholders
    assert summary.users == sum(f.new_users for f in report.files)

    again = ingest_files(workspace, sources)
    for file_report in again.files:  # a re-upload changes nothing: duplicates and the same rejects
        assert file_report.accepted == 0
        assert file_report.duplicate + file_report.rejected + file_report.updated == file_report.rows_read
    assert workspace.summary().reviews == summary.reviews
