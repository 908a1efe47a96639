"""Concurrency: processes ingesting at once, reading while another ingests, activation while serving.

DuckDB lets one process open the database file at a time; `Store` opens it briefly per operation and
retries while another process holds it, and every write is one transaction. So two writers take turns
(nothing lost), and a reader sees the state after some whole transaction (never half a file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from reliability_data import catalog_csv, reviews_csv, source

from recengine.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]

INGEST_CHILD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from recengine.ingest import IngestSource
    from recengine.workspace import Workspace

    root, go, kind = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    files = [Path(path) for path in sys.argv[4:]]
    workspace = Workspace.open(root)
    while not go.exists():  # start together with the other process
        time.sleep(0.01)
    for path in files:  # one ingest (one transaction) per file
        report = workspace.ingest([IngestSource(kind, path.name, path)])
        print(json.dumps({"file": path.name, "accepted": report.accepted, "rejected": report.rejected}), flush=True)
    """
)


def _child(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", INGEST_CHILD, *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _finish(child: subprocess.Popen[str], timeout_s: float = 180) -> list[dict[str, object]]:
    out, err = child.communicate(timeout=timeout_s)
    assert child.returncode == 0, err[-3000:]
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_two_processes_ingesting_at_once_lose_nothing(tmp_path: Path) -> None:
    workspace = Workspace.open(tmp_path / "ws")
    workspace.ingest([source("catalog", "catalog.csv", catalog_csv(60))])
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    # Disjoint reviews, shared customers and products: both writers touch the same users rows.
    first.write_bytes(reviews_csv(300, start=0))
    second.write_bytes(reviews_csv(300, start=300))
    go = tmp_path / "go"
    children = [
        _child(str(workspace.root), str(go), "reviews", str(first)),
        _child(str(workspace.root), str(go), "reviews", str(second)),
    ]
    time.sleep(0.5)
    go.touch()
    reports = [_finish(child) for child in children]
    assert [report[0]["accepted"] for report in reports] == [300, 300]
    summary = Workspace.open(workspace.root).summary()
    assert summary.reviews == 600
    assert summary.users == 80  # U000..U079, each created once although both files name them
    assert summary.ingest_batches == 3
    ids = set(workspace.reviews()["review_id"])
    assert ids == {f"R{number:05d}" for number in range(600)}


@pytest.mark.slow  # ~20 s: five files of up to 1,900 reviews while the reader polls
def test_reader_sees_only_committed_batches_while_another_process_ingests(tmp_path: Path) -> None:
    workspace = Workspace.open(tmp_path / "ws")
    workspace.ingest([source("catalog", "catalog.csv", catalog_csv(60))])
    sizes = [300, 700, 1100, 1500, 1900]
    files, start = [], 0
    for number, size in enumerate(sizes):
        path = tmp_path / f"batch{number}.csv"
        path.write_bytes(reviews_csv(size, start=start))
        files.append(str(path))
        start += size
    committed = {int(total): batches for batches, total in enumerate(np.cumsum([0, *sizes]), start=1)}
    go = tmp_path / "go"
    child = _child(str(workspace.root), str(go), "reviews", *files)
    reader = Workspace(workspace.root)
    go.touch()
    seen: list[tuple[int, int]] = []
    while child.poll() is None:
        summary = reader.summary()  # one connection: one consistent snapshot
        seen.append((summary.reviews, summary.ingest_batches))
        time.sleep(0.02)
    _finish(child)
    final = reader.summary()
    seen.append((final.reviews, final.ingest_batches))
    for reviews, batches in seen:
        # Only whole files: the review count is a sum of whole batches, and matches the batch count.
        assert committed.get(reviews) == batches, (reviews, batches, sorted(set(seen)))
    assert seen[-1] == (sum(sizes), len(sizes) + 1)
    print(f"reads: {len(seen)}, distinct committed states seen: {len(set(seen))}")


def test_fit_never_pairs_one_models_vectors_with_another_models_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An activation between reading the vectors and reading the index (another process) is noticed."""
    from recengine import embed
    from recengine.index import ItemIndex
    from recengine.recommend import workspace_model

    workspace = Workspace.open(tmp_path / "ws")
    workspace.ingest([source("catalog", "catalog.csv", catalog_csv(20)), source("reviews", "r.csv", reviews_csv(60, items=20))])
    vectors = embed.item_vectors(workspace)
    own = embed.item_index(workspace)
    assert own.fingerprint == vectors.fingerprint
    other = ItemIndex.build(vectors.item_ids, vectors.vectors, factory="Flat", fingerprint="another-model@0")
    monkeypatch.setattr(embed, "item_index", lambda ws, progress=None: other)
    recommender = workspace_model.fit_workspace(workspace)
    assert recommender.search is not None and recommender.search.item_index is None  # exact scan instead
    assert recommender.recommend("U001", k=5)
    monkeypatch.setattr(embed, "item_index", lambda ws, progress=None: own)
    recommender = workspace_model.fit_workspace(workspace)
    assert recommender.search is not None and recommender.search.item_index is own


ACTIVATE_CHILD = textwrap.dedent(
    """
    import sys, time
    from recengine.train import registry
    from recengine.workspace import Workspace

    workspace = Workspace.open(sys.argv[1])
    for round in range(int(sys.argv[3])):
        for version in (sys.argv[2], "base"):
            registry.activate(workspace, version, reembed=True)
            print("active", version, flush=True)
            time.sleep(0.05)
    """
)


def _answer(recommender: object) -> list[tuple[str, float]]:
    """The list with its semantic scores: these depend on the model's vectors, so each model's differ."""
    return [
        (result.item_id, round(result.explanation.components.get("semantic", 0.0), 5))
        for result in recommender.recommend("U004", k=10)  # type: ignore[attr-defined]
    ]


@pytest.mark.slow  # imports torch and a tiny transformer in both processes
def test_activation_while_recommendations_are_served(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "train"))
    from train_fixtures import build_tiny_model

    from recengine.embed.pipeline import embed_workspace
    from recengine.recommend import Recommender
    from recengine.train import registry
    from recengine.train.card import ModelCard

    workspace = Workspace.open(tmp_path / "ws")
    # 37 products: customers review varied ones (U004 rates five of them 5 stars).
    workspace.ingest([source("catalog", "catalog.csv", catalog_csv(40)), source("reviews", "r.csv", reviews_csv(400, items=37))])
    model = build_tiny_model(tmp_path / "tiny")
    staged = registry.staging_dir(workspace, "tiny")
    import shutil

    shutil.copytree(model, staged, dirs_exist_ok=True)
    card = ModelCard(base_model="tiny")
    card.start()
    version = registry.register_version(workspace, staged, card).version_id
    # What each model recommends, measured while nothing else runs (also fills both caches and indexes).
    reference: dict[str, list[str]] = {}
    for active in (version, "base"):
        registry.activate(workspace, active, reembed=True)
        embed_workspace(workspace)
        recommender = Recommender.from_workspace(workspace)
        reference[recommender.fingerprint] = _answer(recommender)
    assert len(reference) == 2 and len({tuple(ids) for ids in reference.values()}) == 2

    child = subprocess.Popen(
        [sys.executable, "-c", ACTIVATE_CHILD, str(workspace.root), version, "15"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    answers: list[str] = []
    while child.poll() is None:
        recommender = Recommender.from_workspace(workspace)
        ids = _answer(recommender)
        # Wholly one model's answer: the vectors, the index and the list all of one version.
        index = recommender.search.item_index if recommender.search else None
        assert index is None or index.fingerprint == recommender.fingerprint
        assert ids == reference[recommender.fingerprint]
        answers.append(recommender.fingerprint)
    _out, err = child.communicate()
    assert child.returncode == 0, err[-3000:]
    assert len(answers) > 10
    assert len(set(answers)) == 2  # the switches really happened while serving
    counts = {fingerprint: answers.count(fingerprint) for fingerprint in set(answers)}
    print(f"answers: {len(answers)}, from each model: {counts}")
